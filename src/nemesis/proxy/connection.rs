//! One proxied connection: two pipes (upstream, downstream), each a reader that timestamps
//! chunks and a writer that releases them when due. Both read the active toxics on every
//! chunk, so a change reaches live connections; a reset closes the connection at once.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep, sleep_until, timeout};

use super::delay::DelayGen;
use super::toxic::{Direction, ToxicSet};

/// The most bytes read at once; a chunk is the unit toxics act on.
const CHUNK_BYTES: usize = 16 * 1024;
/// Chunks read but not yet written, per direction (bounded: backpressure, not memory).
const CHUNKS_IN_FLIGHT: usize = 32;
/// How long the proxy waits for the upstream to accept before giving up on a client.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Bandwidth is paced in slices of this much time's worth of bytes.
const BANDWIDTH_TICK: Duration = Duration::from_millis(50);

/// What a connection needs from its proxy.
pub(super) struct Link {
    /// Where the proxy forwards to.
    pub(super) upstream: SocketAddr,
    /// The active toxics; the sender's drop means the proxy is shutting down.
    pub(super) toxics: watch::Receiver<ToxicSet>,
    /// The proxy's seed, for the latency jitter.
    pub(super) seed: u64,
    /// The connection's accept order, which picks its jitter streams.
    pub(super) index: u64,
}

/// How a connection ended.
enum Ending {
    /// Both directions reached EOF and were shut down in turn.
    Done,
    /// A socket error on either side: the other side is reset too.
    Failed,
    /// A reset toxic; the direction says which side(s) get the RST.
    Reset(Direction),
    /// The proxy is shutting down.
    Stopped,
}

/// Serves one accepted client until either side closes, a reset toxic, or shutdown.
pub(super) async fn serve(mut client: TcpStream, link: Link) {
    let mut toxics = link.toxics.clone();
    let (refuses, reset) = {
        let now = toxics.borrow_and_update();
        (now.refuses(), now.reset())
    };
    if refuses {
        return; // dropped: the client reads EOF, as from a service that closes at once
    }
    if let Some(direction) = reset {
        if direction.covers(Direction::Downstream) {
            let _ = client.set_zero_linger();
        }
        return;
    }
    let mut server = match timeout(CONNECT_TIMEOUT, TcpStream::connect(link.upstream)).await {
        Ok(Ok(server)) => server,
        _ => {
            let _ = client.set_zero_linger(); // the upstream is down: the client sees a reset
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (reset_client, reset_server) = match forward(&mut client, &mut server, &link, toxics).await
    {
        Ending::Done | Ending::Stopped => (false, false),
        Ending::Failed => (true, true),
        Ending::Reset(direction) => (
            direction.covers(Direction::Downstream),
            direction.covers(Direction::Upstream),
        ),
    };
    if reset_client {
        let _ = client.set_zero_linger();
    }
    if reset_server {
        let _ = server.set_zero_linger();
    }
}

/// Copies both ways until both directions end, one fails, or a reset or shutdown comes.
async fn forward(
    client: &mut TcpStream,
    server: &mut TcpStream,
    link: &Link,
    mut toxics: watch::Receiver<ToxicSet>,
) -> Ending {
    let (client_read, client_write) = client.split();
    let (server_read, server_write) = server.split();
    let up = pipe(client_read, server_write, flow(link, Direction::Upstream));
    let down = pipe(server_read, client_write, flow(link, Direction::Downstream));
    tokio::select! {
        copied = async { tokio::try_join!(up, down) } => match copied {
            Ok(_) => Ending::Done,
            Err(_) => Ending::Failed,
        },
        ending = wait_for_reset(&mut toxics) => ending,
    }
}

/// Resolves when a reset toxic is set or the proxy shuts down.
async fn wait_for_reset(toxics: &mut watch::Receiver<ToxicSet>) -> Ending {
    loop {
        if toxics.changed().await.is_err() {
            return Ending::Stopped;
        }
        if let Some(direction) = toxics.borrow_and_update().reset() {
            return Ending::Reset(direction);
        }
    }
}

/// One direction of one connection.
struct Flow {
    direction: Direction,
    toxics: watch::Receiver<ToxicSet>,
    delays: DelayGen,
}

fn flow(link: &Link, direction: Direction) -> Flow {
    let offset = u64::from(direction == Direction::Downstream);
    Flow {
        direction,
        toxics: link.toxics.clone(),
        delays: DelayGen::new(link.seed, link.index.wrapping_mul(2).wrapping_add(offset)),
    }
}

/// Bytes read at `read` time, to be written no earlier than `due`.
struct Chunk {
    due: Instant,
    bytes: Vec<u8>,
}

/// Copies `from` to `to` through the toxics, then shuts `to` down (half-close).
async fn pipe(mut from: ReadHalf<'_>, mut to: WriteHalf<'_>, flow: Flow) -> io::Result<()> {
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let toxics = flow.toxics.clone();
    let direction = flow.direction;
    tokio::try_join!(
        read_chunks(&mut from, flow, tx),
        write_chunks(&mut to, direction, toxics, rx),
    )?;
    Ok(())
}

/// Reads chunks, drops them if blackholed, and stamps each with when it is due: its read
/// time plus a latency draw, but never before the previous chunk (order is preserved).
async fn read_chunks(
    from: &mut ReadHalf<'_>,
    mut flow: Flow,
    tx: mpsc::Sender<Chunk>,
) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK_BYTES];
    let mut last_due = Instant::now();
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            return Ok(()); // EOF: dropping `tx` lets the writer drain and half-close
        }
        let (blackholed, latency) = {
            let toxics = flow.toxics.borrow();
            (
                toxics.blackholes(flow.direction),
                toxics.latency(flow.direction),
            )
        };
        if blackholed {
            continue;
        }
        let delay = latency.map_or(Duration::ZERO, |(l, j)| flow.delays.delay(l, j));
        let due = (Instant::now() + delay).max(last_due);
        last_due = due;
        let chunk = Chunk {
            due,
            bytes: buf[..n].to_vec(),
        };
        if tx.send(chunk).await.is_err() {
            return Ok(()); // the writer failed; it reports the error
        }
    }
}

/// Writes each chunk when due, paced by any bandwidth toxic, then half-closes.
async fn write_chunks(
    to: &mut WriteHalf<'_>,
    direction: Direction,
    toxics: watch::Receiver<ToxicSet>,
    mut rx: mpsc::Receiver<Chunk>,
) -> io::Result<()> {
    let mut next_free = Instant::now();
    while let Some(chunk) = rx.recv().await {
        wait_until(chunk.due).await;
        if toxics.borrow().blackholes(direction) {
            continue; // blackholed while it waited
        }
        write_paced(to, &chunk.bytes, direction, &toxics, &mut next_free).await?;
    }
    to.shutdown().await
}

/// Sleeps until `deadline`, or not at all if it has passed: tokio's timer would otherwise
/// round a past deadline up to its next 1 ms tick, which on loopback is 50 times a round trip.
async fn wait_until(deadline: Instant) {
    if deadline > Instant::now() {
        sleep_until(deadline).await;
    }
}

/// Writes `bytes`, in slices of [`BANDWIDTH_TICK`]'s worth while a bandwidth toxic covers
/// `direction`; `next_free` is when the link may send again.
async fn write_paced(
    to: &mut WriteHalf<'_>,
    mut bytes: &[u8],
    direction: Direction,
    toxics: &watch::Receiver<ToxicSet>,
    next_free: &mut Instant,
) -> io::Result<()> {
    while !bytes.is_empty() {
        let Some(rate) = toxics.borrow().bandwidth(direction) else {
            return to.write_all(bytes).await;
        };
        if rate == 0 {
            sleep(BANDWIDTH_TICK).await; // stalled until the toxic changes
            continue;
        }
        let per_tick = rate.saturating_mul(BANDWIDTH_TICK.as_millis() as u64) / 1000;
        let len = bytes
            .len()
            .min(usize::try_from(per_tick.max(1)).unwrap_or(usize::MAX));
        let start = (*next_free).max(Instant::now());
        wait_until(start).await;
        to.write_all(&bytes[..len]).await?;
        *next_free = start + Duration::from_secs_f64(len as f64 / rate as f64);
        bytes = &bytes[len..];
    }
    Ok(())
}
