//! The stand-in Alluxio: `alluxio-stand-in executor ROLE` is the Mesos
//! executor the launch scripts run; `alluxio-stand-in ROLE` the Alluxio
//! process it starts; `alluxio-stand-in install OUT_DIR` writes the
//! `alluxio.home` and tarballs. See README.md.

mod alluxio;
mod executor;
mod health;
mod install;
mod site;

use site::Role;

const USAGE: &str =
    "usage: alluxio-stand-in executor master|worker | master | worker | install OUT_DIR";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match args.as_slice() {
        ["install", out] => install::install(std::path::Path::new(out)),
        ["executor", role] => Role::parse(role).and_then(|r| runtime().block_on(executor::run(r))),
        [role] if *role != "install" => {
            Role::parse(role).and_then(|r| runtime().block_on(alluxio::run(r)))
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = outcome {
        eprintln!("alluxio-stand-in: {e:#}");
        std::process::exit(1);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}
