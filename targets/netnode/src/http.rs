//! netnode's HTTP/1.1 server: a thread per connection, one request per connection, every
//! answer with `Content-Length` and `Connection: close`. Just enough HTTP for splitbrain's
//! tests and netnode's own peer probes; no chunked bodies, no keep-alive.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::Node;

/// A client that stalls this long mid-request is dropped, so threads do not pile up.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_HEAD: u64 = 16 * 1024;
const MAX_BODY: usize = 64 * 1024;

/// Serves until accepting fails for good (it does not, in practice: the process is killed).
pub(crate) fn serve(listener: &TcpListener, node: &Arc<Node>) {
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                let node = Arc::clone(node);
                thread::spawn(move || handle(stream, &node));
            }
            // Out of file descriptors or a connection reset before accept: wait, go on.
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

enum BadRequest {
    /// Reset, timeout or early EOF: nobody is left to answer.
    Io,
    Malformed(&'static str),
    TooLarge,
}

struct Response {
    status: u16,
    content_type: &'static str,
    body: String,
}

fn handle(mut stream: TcpStream, node: &Node) {
    // Errors below mean the client went away; there is no one to tell.
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let response = match read_request(&stream) {
        Ok(request) => route(&request, node),
        Err(BadRequest::Io) => return,
        Err(BadRequest::Malformed(why)) => Response::text(400, why),
        Err(BadRequest::TooLarge) => Response::text(413, "request too large"),
    };
    let _ = stream.write_all(&response.to_bytes());
    // Closing with unread input would send RST and could cut the answer short at the client:
    // half-close, then let the client close first.
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = std::io::copy(&mut (&stream).take(MAX_BODY as u64), &mut std::io::sink());
}

fn route(request: &Request, node: &Node) -> Response {
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/ping") => Response::text(200, "pong"),
        ("GET", "/status") => Response::json(200, node.status_json()),
        ("POST", "/add") => match parse_add(&request.body) {
            Some(value) => {
                node.add(value);
                Response::json(200, r#"{"ok":true}"#.to_owned())
            }
            None => Response::json(
                400,
                r#"{"error":"expected {\"value\": INTEGER}"}"#.to_owned(),
            ),
        },
        ("GET", "/read") => Response::json(200, node.read_json()),
        _ => Response::text(404, "not found"),
    }
}

/// The request line, the headers (only `Content-Length` matters) and that many body bytes.
fn read_request(stream: &TcpStream) -> Result<Request, BadRequest> {
    let mut head = BufReader::new(stream).take(MAX_HEAD);
    let line = read_line(&mut head)?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(BadRequest::Malformed("malformed request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(BadRequest::Malformed("not HTTP/1.x"));
    }
    let (method, path) = (
        method.to_owned(),
        target.split('?').next().unwrap_or("").to_owned(),
    );
    let mut content_length = 0;
    loop {
        let line = read_line(&mut head)?;
        if line.is_empty() {
            break;
        }
        let (key, value) = line
            .split_once(':')
            .ok_or(BadRequest::Malformed("malformed header"))?;
        if key.eq_ignore_ascii_case("content-length") {
            content_length = value
                .trim()
                .parse()
                .map_err(|_| BadRequest::Malformed("malformed Content-Length"))?;
        } else if key.eq_ignore_ascii_case("transfer-encoding") {
            return Err(BadRequest::Malformed(
                "only Content-Length bodies are supported",
            ));
        }
    }
    if content_length > MAX_BODY {
        return Err(BadRequest::TooLarge);
    }
    // The BufReader may already hold the start of the body: read on through it.
    let mut body = vec![0; content_length];
    head.into_inner()
        .read_exact(&mut body)
        .map_err(|_| BadRequest::Io)?;
    Ok(Request { method, path, body })
}

/// One line without its `\r\n`.
fn read_line(head: &mut std::io::Take<BufReader<&TcpStream>>) -> Result<String, BadRequest> {
    let mut line = Vec::new();
    head.read_until(b'\n', &mut line)
        .map_err(|_| BadRequest::Io)?;
    if !line.ends_with(b"\n") {
        return Err(if head.limit() == 0 {
            BadRequest::TooLarge
        } else {
            BadRequest::Io
        });
    }
    let line = String::from_utf8(line).map_err(|_| BadRequest::Malformed("not UTF-8"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// `{"value": 17}` and nothing else: one key, an integer in i64.
fn parse_add(body: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(body).ok()?.trim();
    let s = s.strip_prefix('{')?.strip_suffix('}')?.trim();
    let s = s.strip_prefix(r#""value""#)?.trim_start();
    let number = s.strip_prefix(':')?.trim();
    let digits = number.strip_prefix('-').unwrap_or(number);
    let json_integer = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !json_integer {
        return None;
    }
    number.parse().ok()
}

impl Response {
    fn text(status: u16, body: &str) -> Self {
        let body = body.to_owned();
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body,
        }
    }

    fn json(status: u16, body: String) -> Self {
        Response {
            status,
            content_type: "application/json",
            body,
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let reason = match self.status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            413 => "Content Too Large",
            _ => "",
        };
        format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
            self.status,
            self.content_type,
            self.body.len(),
            self.body
        )
        .into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::parse_add;

    #[test]
    fn add_body_is_one_integer_value() {
        assert_eq!(parse_add(br#"{"value": 17}"#), Some(17));
        assert_eq!(parse_add(b" {\n\"value\":-3 }\n"), Some(-3));
        assert_eq!(parse_add(br#"{"value":0}"#), Some(0));
        for bad in [
            &br#"{"value": "17"}"#[..],
            br#"{"value": 1.5}"#,
            br#"{"value": 017}"#,
            br#"{"value": 99999999999999999999}"#,
            br#"{"value": 1, "x": 2}"#,
            br#"{"valu": 1}"#,
            b"17",
            b"",
        ] {
            assert_eq!(parse_add(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }
}
