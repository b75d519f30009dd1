//! The `alluxio-mesos` command line (see `alluxio_mesos::cli`).

fn main() {
    std::process::exit(alluxio_mesos::cli::run());
}
