//! Times the linearizability checker on the peers' histories in `../shared/corpus`: the 102
//! etcd logs (Porcupine's etcd model semantics) and the kv logs, and prints, per file and in
//! total, the minimum and median over `RUNS` runs (`BENCH_RUNS=N`, default 21) beside
//! Porcupine's times from `anchors/porcupine_timings_etcd_kv.tsv` (same kind of machine).
//! The goal (issue 7): at most half Porcupine's median total on the etcd set and on c50-ok.
//! Run: `cargo bench --bench linear` (or `--profile test`, opt-level 1, for a quick look
//! without a release build). Files are read and parsed once, outside the timing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use splitbrain::checker::linear::{self, Bounds, LinearModel, Semantics};
use splitbrain::history::{History, read_history};

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !dir.join("MANIFEST.tsv").is_file() {
        eprintln!("SKIPPED: no corpus at {}", dir.display());
        return;
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(21);
    let anchors = anchors(&dir);
    let etcd = LinearModel::CasRegister(Semantics::PorcupineEtcd);
    let mut files: Vec<(String, History, LinearModel)> = Vec::new();
    for n in (0..=102).filter(|&n| n != 95) {
        let name = format!("etcd_{n:03}.log");
        let path = dir.join("linearizability/etcd-jepsen").join(&name);
        files.push((name, read_history(&path).expect("etcd log reads").0, etcd));
    }
    for name in [
        "c01-ok", "c01-bad", "c10-ok", "c10-bad", "c50-ok", "c50-bad",
    ] {
        let path: PathBuf = dir.join(format!("linearizability/kv-append/{name}.txt"));
        let (history, _) = read_history(&path).expect("kv log reads");
        files.push((format!("{name}.txt"), history, LinearModel::Kv));
    }
    println!("linearizability benchmark, {runs} runs per file (min / median ms)");
    println!(
        "{:<14} {:>9} {:>9}   porcupine {:>9} {:>9}",
        "file", "min", "median", "min", "median"
    );
    let mut etcd_totals = vec![Duration::ZERO; runs];
    for (name, history, model) in &files {
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                let result = linear::check(history, *model, Bounds::default()).unwrap();
                std::hint::black_box(result);
                start.elapsed()
            })
            .collect();
        if name.starts_with("etcd_") {
            for (total, t) in etcd_totals.iter_mut().zip(&times) {
                *total += *t;
            }
        }
        times.sort_unstable();
        let (porcupine_min, porcupine_median) = anchors.get(name).copied().unwrap_or_default();
        println!(
            "{name:<14} {:>9.3} {:>9.3}   porcupine {porcupine_min:>9.3} {porcupine_median:>9.3}",
            ms(times[0]),
            ms(times[runs / 2]),
        );
    }
    etcd_totals.sort_unstable();
    let (pmin, pmed) = anchors
        .iter()
        .filter(|(name, _)| name.starts_with("etcd_"))
        .fold((0.0, 0.0), |(a, b), (_, (min, med))| (a + min, b + med));
    println!(
        "etcd total (102 logs): min {:.1} ms, median {:.1} ms; porcupine min {pmin:.1} ms, median {pmed:.1} ms; goal median <= {:.1} ms",
        ms(etcd_totals[0]),
        ms(etcd_totals[runs / 2]),
        pmed / 2.0
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Porcupine's (min, median) ms per file; for kv, the partitioned rows.
fn anchors(dir: &Path) -> BTreeMap<String, (f64, f64)> {
    let path = dir.join("anchors/porcupine_timings_etcd_kv.tsv");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut anchors = BTreeMap::new();
    for row in text.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        if cols.len() < 11 || cols[1] == "kv-append(no-partition)" {
            continue;
        }
        // etcd_095 (the run whose cluster never started) has no times.
        if let (Ok(min), Ok(median)) = (cols[9].parse(), cols[10].parse()) {
            anchors.insert(cols[0].to_owned(), (min, median));
        }
    }
    anchors
}
