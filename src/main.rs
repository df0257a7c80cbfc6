//! `wfm`: the suite's one binary. Every stage is a subcommand that reads and writes files;
//! `wfm serve` (the default) runs them all behind the web application.

mod admin;
mod cli;
mod demo;
mod intraday;
mod planning;
mod rostering;
mod serve;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Result;
use clap::Parser;

fn main() -> Result<()> {
    let args = cli::Args::parse();
    cli::run(args)
}
