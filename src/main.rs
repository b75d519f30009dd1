//! The `alluxio-mesos` command line.
fn main() {
    println!("alluxio-mesos: under construction");
}
