//! The nemesis: faults and where they land.

pub mod proxy;
