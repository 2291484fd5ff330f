//! `splitbrain check`'s options for the linearizability models (register, cas-register, kv):
//! what a history's `fail`, `info` and `nil` mean, and how long the search may take. The
//! command line's options win over those a history's header recorded.

use splitbrain::checker::linear::{LinearOptions, SemanticsName, TimeLimit, parse_init};

/// The linearizability flags of `check`.
#[derive(clap::Args, Debug, Default)]
pub struct LinearArgs {
    /// For register and cas-register: what a history's fail, info and nil mean.
    /// `porcupine` (the default; Porcupine's etcd model, for Jepsen's etcd logs and
    /// splitbrain's own services): the register starts nil, an ok read of nil means the key is
    /// missing, a failed cas ran and its compare failed, a failed write did not happen.
    /// `knossos` (Knossos' cas-register, for Knossos and elle-cli histories): failed ops did
    /// not happen, a read of nil constrains nothing, the register starts at --init.
    /// In both, an info (or never completed) write or cas may take effect at any time after
    /// its invocation, or never.
    #[arg(long, value_name = "porcupine|knossos")]
    pub semantics: Option<SemanticsName>,
    /// With --semantics knossos: the register's initial value, nil (the default) or an
    /// integer. Knossos' own histories assume 0 (`--init 0`).
    #[arg(long, value_name = "VALUE", value_parser = init_arg)]
    pub init: Option<Init>,
    /// For register, cas-register and kv: how long the search may spend on one key (e.g.
    /// 10s, 2m; `none` for no limit; default 60s). A key that passes it is unknown (exit 2),
    /// named in the results' stats.unknown-keys.
    #[arg(long, value_name = "DURATION")]
    pub time_limit: Option<TimeLimit>,
    /// For register, cas-register and kv: how many configurations the search may remember
    /// per key (default 10000000); past it the key is unknown (exit 2). Memory grows with
    /// it.
    #[arg(long, value_name = "N")]
    pub memo_limit: Option<usize>,
}

/// A register's initial value as given to `--init`.
#[derive(Clone, Copy, Debug)]
pub struct Init(Option<i64>);

fn init_arg(s: &str) -> Result<Init, String> {
    parse_init(s).map(Init)
}

impl LinearArgs {
    /// The options given (each `None` when not given).
    pub fn options(&self) -> LinearOptions {
        LinearOptions {
            semantics: self.semantics,
            init: self.init.map(|Init(v)| v),
            time_limit: self.time_limit,
            memo_limit: self.memo_limit,
        }
    }
}
