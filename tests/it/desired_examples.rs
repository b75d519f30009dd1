//! The example deployments in plans/ load cleanly and mean what they say.

use alluxio_mesos::desired::{
    load_with_env, AlluxioSource, JdkSource, Loaded, MasterLocator, WorkerCount,
};
use std::path::PathBuf;

fn example(name: &str) -> Loaded {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("plans")
        .join(name)
        .join("alluxio-mesos.toml");
    let env = |k: &str| (k == "USER").then(|| "ci".to_string());
    match load_with_env(&path, &env) {
        Ok(l) => l,
        Err(e) => panic!("{name}: {:?}", miette::Report::new(e)),
    }
}

#[test]
fn every_example_loads_without_warnings() {
    for name in ["quickstart", "ha", "custom-ports"] {
        let loaded = example(name);
        assert!(loaded.warnings.is_empty(), "{name}: {:?}", loaded.warnings);
    }
}

#[test]
fn quickstart_runs_one_master_and_workers_everywhere_on_the_local_emulator() {
    let d = example("quickstart").desired;
    assert_eq!(d.mesos.master, Some(MasterLocator::Local));
    assert_eq!(d.master.count, 1);
    assert_eq!(d.worker.count, WorkerCount::All);
    assert_eq!(
        d.install.alluxio,
        AlluxioSource::Local {
            home: "/opt/alluxio".into()
        }
    );
    assert_eq!(d.install.jdk, JdkSource::Local);
    assert_eq!(d.master.ports(), [19998, 19999]);
    assert_eq!(d.worker.ports(), [29998, 29999, 30000]);
}

#[test]
fn ha_runs_three_masters_with_zookeeper() {
    let d = example("ha").desired;
    assert_eq!(d.master.count, 3);
    assert_eq!(
        d.zookeeper.as_deref(),
        Some("zk1.example.com:2181,zk2.example.com:2181,zk3.example.com:2181")
    );
    assert!(matches!(d.mesos.master, Some(MasterLocator::ZooKeeper(_))));
    assert!(matches!(d.install.jdk, JdkSource::Download { .. }));
    assert!(d.master.task.constraints.is_some());
    assert_eq!(d.worker.ramdisk.to_string(), "16GB");
}

#[test]
fn custom_ports_puts_all_five_ports_in_the_default_offer_range() {
    let d = example("custom-ports").desired;
    for p in d.master.ports().into_iter().chain(d.worker.ports()) {
        assert!((31000..=32000).contains(&p), "port {p}");
    }
}

/// `ready`: Alluxio is asked for the default launch, Mesos for a `command`;
/// what the file says wins; the embedded emulator, which runs no Alluxio,
/// asks Mesos unless the file says otherwise.
#[test]
fn readiness_defaults_follow_what_the_task_runs() {
    use alluxio_mesos::desired::ReadyWhen;
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let load = |toml: &str| {
        let path = dir.path().join("alluxio-mesos.toml");
        std::fs::write(&path, format!("name = \"a\"\n[mesos]\nmaster = \"http://m:5050\"\nuser = \"u\"\n[alluxio]\njar_url = \"LOCAL\"\nhome = \"/opt/alluxio\"\n{toml}")).unwrap();
        std::fs::write(dir.path().join("alluxio-site.properties"), "").unwrap();
        match load_with_env(&path, &|_| None) {
            Ok(l) => l.desired,
            Err(e) => panic!("{:?}", miette::Report::new(e)),
        }
    };
    let d = load("[worker]\ncommand = \"exec sleep 1\"\n");
    assert_eq!(d.master.task.ready.when, ReadyWhen::Alluxio);
    assert_eq!(d.master.task.ready.timeout, Duration::from_secs(300));
    assert_eq!(d.worker.task.ready.when, ReadyWhen::Mesos);

    let mut d = load("[master]\nready = \"mesos\"\n[worker]\nready = \"alluxio\"\nready_timeout = \"90s\"\ncommand = \"exec sleep 1\"\n");
    assert_eq!(d.master.task.ready.when, ReadyWhen::Mesos);
    assert_eq!(d.worker.task.ready.when, ReadyWhen::Alluxio);
    assert_eq!(d.worker.task.ready.timeout, Duration::from_secs(90));
    d.ask_mesos_unless_set();
    assert_eq!(
        d.worker.task.ready.when,
        ReadyWhen::Alluxio,
        "what the file says is kept"
    );

    let mut d = load("");
    d.ask_mesos_unless_set();
    assert_eq!(d.master.task.ready.when, ReadyWhen::Mesos);
    assert_eq!(d.worker.task.ready.when, ReadyWhen::Mesos);

    let path = dir.path().join("alluxio-mesos.toml");
    std::fs::write(&path, "name = \"a\"\n[mesos]\nmaster = \"http://m:5050\"\nuser = \"u\"\n[alluxio]\njar_url = \"LOCAL\"\nhome = \"/opt/alluxio\"\n[master]\nready = \"soon\"\n").unwrap();
    let Err(e) = load_with_env(&path, &|_| None) else {
        panic!("a bad ready is an error");
    };
    let text = format!("{:?}", miette::Report::new(e));
    assert!(
        text.contains("\"soon\" is neither \"alluxio\" nor \"mesos\""),
        "{text}"
    );
}
