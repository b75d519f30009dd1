//! Bad deployments fail with located diagnostics that say how to fix them.

use alluxio_mesos::desired::{load_with_env, DesiredError, Loaded, Location};
use std::path::{Path, PathBuf};

const GOOD_TOML: &str = r#"name = "t"

[mesos]
master = "local"
user = "alluxio"

[master]
count = 1

[worker]
count = "all"
"#;

const GOOD_PROPS: &str =
    "alluxio.integration.mesos.alluxio.jar.url=LOCAL\nalluxio.home=/opt/alluxio\n";

struct Case {
    _dir: tempfile::TempDir,
    toml: PathBuf,
}

fn case(toml: &str, props: Option<&str>) -> Case {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("alluxio-mesos.toml");
    std::fs::write(&path, toml).unwrap();
    if let Some(p) = props {
        std::fs::write(dir.path().join("alluxio-site.properties"), p).unwrap();
    }
    Case {
        _dir: dir,
        toml: path,
    }
}

fn no_env(k: &str) -> Option<String> {
    (k == "USER").then(|| "tester".to_string())
}

fn load(c: &Case) -> Result<Loaded, DesiredError> {
    load_with_env(&c.toml, &no_env)
}

fn error(toml: &str, props: Option<&str>) -> (DesiredError, String) {
    let c = case(toml, props);
    let err = match load(&c) {
        Ok(l) => panic!("loaded: {:?}", l.desired),
        Err(e) => e,
    };
    let dir = c.toml.parent().unwrap().display().to_string();
    (err, dir)
}

/// The only problem's message, help and label locations.
fn single(err: &DesiredError) -> (String, String, Vec<Location>) {
    assert_eq!(err.problems().len(), 1, "{:?}", err.problems());
    let p = &err.problems()[0];
    (
        p.message().to_string(),
        p.help_text().unwrap_or_default().to_string(),
        p.locations(),
    )
}

fn at(locs: &[Location], file: &str) -> Vec<(usize, usize)> {
    locs.iter()
        .filter(|l| l.path.file_name().unwrap() == file)
        .map(|l| (l.line, l.column))
        .collect()
}

fn with_toml(extra_in: &str, line: &str) -> String {
    GOOD_TOML.replace(extra_in, &format!("{extra_in}\n{line}"))
}

#[test]
fn a_good_deployment_loads() {
    let c = case(GOOD_TOML, Some(GOOD_PROPS));
    let l = load(&c).unwrap();
    assert_eq!(l.desired.name, "t");
    assert_eq!(l.desired.mesos.user, "alluxio");
    assert_eq!(l.desired.mesos.framework_name, "t");
    assert_eq!(l.desired.mesos.role, "*");
    assert_eq!(l.desired.worker.max_unavailable, 1);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
}

#[test]
fn the_user_defaults_to_the_current_user() {
    let c = case(
        &GOOD_TOML.replace("user = \"alluxio\"\n", ""),
        Some(GOOD_PROPS),
    );
    assert_eq!(load(&c).unwrap().desired.mesos.user, "tester");
    let e = load_with_env(&c.toml, &|_| None).unwrap_err();
    let (msg, help, _) = single(&e);
    assert!(msg.contains("no user to run the tasks as"), "{msg}");
    assert!(help.contains("user = "), "{help}");
}

#[test]
fn unknown_key_is_located_with_a_did_you_mean() {
    let (e, _) = error(&with_toml("[master]", "cout = 2"), Some(GOOD_PROPS));
    let (msg, help, locs) = single(&e);
    assert_eq!(msg, "unknown key `cout` in [master]");
    assert_eq!(help, "did you mean `count`?");
    assert_eq!(at(&locs, "alluxio-mesos.toml"), vec![(8, 1)]);
}

#[test]
fn unknown_top_level_key_gets_a_did_you_mean() {
    let toml = GOOD_TOML.replace("[mesos]", "[meso]");
    let (e, _) = error(&toml, Some(GOOD_PROPS));
    let (msg, help, locs) = single(&e);
    assert!(msg.contains("unknown key `meso`"), "{msg}");
    assert_eq!(help, "did you mean `mesos`?");
    assert_eq!(at(&locs, "alluxio-mesos.toml")[0].0, 3);
}

#[test]
fn a_key_in_the_wrong_section_says_where_it_belongs() {
    let (e, _) = error(
        &with_toml("[master]", "ramdisk = \"1GB\""),
        Some(GOOD_PROPS),
    );
    let (_, help, _) = single(&e);
    assert_eq!(help, "`ramdisk` belongs in [worker]");
}

#[test]
fn every_unknown_key_is_reported_at_once() {
    let toml = with_toml("[master]", "cout = 2\nmemory = \"1GB\"");
    let (e, _) = error(&toml, Some(GOOD_PROPS));
    assert_eq!(e.problems().len(), 2);
}

#[test]
fn wrong_type_names_the_key_and_the_expected_type() {
    let toml = GOOD_TOML.replace("count = 1", "count = \"1\"");
    let (e, _) = error(&toml, Some(GOOD_PROPS));
    let (msg, help, locs) = single(&e);
    assert_eq!(msg, "`master.count` must be a whole number, not a string");
    assert!(help.contains("without quotes"), "{help}");
    assert_eq!(at(&locs, "alluxio-mesos.toml"), vec![(8, 9)]);
}

#[test]
fn a_section_that_is_not_a_table_is_located() {
    let toml = format!(
        "mesos = 5\n{}",
        GOOD_TOML.replace("[mesos]\nmaster = \"local\"\nuser = \"alluxio\"\n", "")
    );
    let (e, _) = error(&toml, Some(GOOD_PROPS));
    let (msg, _, locs) = single(&e);
    assert!(msg.contains("`mesos` must be a table"), "{msg}");
    assert_eq!(at(&locs, "alluxio-mesos.toml")[0].0, 1);
}

#[test]
fn toml_syntax_errors_are_located() {
    let (e, _) = error("name = \"t\nx", Some(GOOD_PROPS));
    let (msg, _, locs) = single(&e);
    assert!(msg.starts_with("invalid TOML"), "{msg}");
    assert_eq!(at(&locs, "alluxio-mesos.toml")[0].0, 1);
}

#[test]
fn unparsable_sizes_are_located_in_either_file() {
    let (e, _) = error(
        &with_toml("[worker]", "ramdisk = \"4GiB\""),
        Some(GOOD_PROPS),
    );
    let (msg, help, locs) = single(&e);
    assert!(msg.starts_with("invalid `worker.ramdisk`"), "{msg}");
    assert!(help.contains("\"4GB\""), "{help}");
    assert_eq!(at(&locs, "alluxio-mesos.toml"), vec![(11, 11)]);

    let props = format!("{GOOD_PROPS}alluxio.integration.master.resource.mem = lots\n");
    let (e, _) = error(GOOD_TOML, Some(&props));
    let (msg, _, locs) = single(&e);
    assert!(
        msg.starts_with("invalid `alluxio.integration.master.resource.mem`"),
        "{msg}"
    );
    assert_eq!(at(&locs, "alluxio-site.properties"), vec![(3, 43)]);
}

#[test]
fn unparsable_numbers_and_zero_cpus_are_rejected() {
    let props = format!("{GOOD_PROPS}alluxio.integration.worker.resource.cpu=two\n");
    let (e, _) = error(GOOD_TOML, Some(&props));
    assert!(single(&e).0.contains("\"two\" is not a number of CPUs"));
    let (e, _) = error(&with_toml("[master]", "cpus = 0"), Some(GOOD_PROPS));
    let (msg, _, locs) = single(&e);
    assert!(msg.contains("not more than 0"), "{msg}");
    assert_eq!(at(&locs, "alluxio-mesos.toml"), vec![(8, 8)]);
}

#[test]
fn zero_memory_is_rejected() {
    let (e, _) = error(&with_toml("[worker]", "mem = \"0MB\""), Some(GOOD_PROPS));
    let (msg, _, locs) = single(&e);
    assert_eq!(msg, "`worker.mem` is 0");
    assert_eq!(at(&locs, "alluxio-mesos.toml"), vec![(11, 7)]);
}

#[test]
fn ports_outside_the_valid_range_are_rejected() {
    let props = format!("{GOOD_PROPS}alluxio.worker.web.port=70000\n");
    let (e, _) = error(GOOD_TOML, Some(&props));
    let (msg, help, locs) = single(&e);
    assert!(msg.contains("port 70000 is outside 1..65535"), "{msg}");
    assert!(help.contains("31000-32000"), "{help}");
    assert_eq!(at(&locs, "alluxio-site.properties"), vec![(3, 25)]);
    let (e, _) = error(&with_toml("[master]", "rpc_port = 0"), Some(GOOD_PROPS));
    assert!(single(&e).0.contains("port 0 is outside"));
}

#[test]
fn colliding_worker_ports_are_named_with_both_places() {
    let props = format!("{GOOD_PROPS}alluxio.worker.port=31000\nalluxio.worker.data.port=31000\n");
    let (e, _) = error(GOOD_TOML, Some(&props));
    let (msg, help, locs) = single(&e);
    assert!(
        msg.starts_with("port 31000 is used by alluxio.worker.port"),
        "{msg}"
    );
    assert!(msg.contains("alluxio.worker.data.port"), "{msg}");
    assert!(help.contains("must all differ"), "{help}");
    assert_eq!(at(&locs, "alluxio-site.properties"), vec![(3, 21), (4, 26)]);
}

#[test]
fn a_master_port_may_not_equal_a_worker_port_even_by_default() {
    let props = format!("{GOOD_PROPS}alluxio.master.web.port=29999\n");
    let (e, _) = error(GOOD_TOML, Some(&props));
    let (msg, _, locs) = single(&e);
    assert!(
        msg.contains("port 29999 is used by alluxio.master.web.port"),
        "{msg}"
    );
    assert!(
        msg.contains("alluxio.worker.data.port (by default)"),
        "{msg}"
    );
    assert_eq!(at(&locs, "alluxio-site.properties"), vec![(3, 25)]);
}

#[test]
fn different_values_in_both_files_name_both_locations() {
    let props = format!("{GOOD_PROPS}alluxio.integration.master.resource.cpu=1.5\n");
    let (e, dir) = error(&with_toml("[master]", "cpus = 2"), Some(&props));
    let (msg, help, locs) = single(&e);
    assert!(msg.contains("`master.cpus` is set twice"), "{msg}");
    assert!(
        msg.contains(&format!("{dir}/alluxio-mesos.toml:8")),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("{dir}/alluxio-site.properties:3")),
        "{msg}"
    );
    assert!(
        help.contains("alluxio.integration.master.resource.cpu"),
        "{help}"
    );
    assert_eq!(at(&locs, "alluxio-mesos.toml"), vec![(8, 8)]);
    assert_eq!(at(&locs, "alluxio-site.properties"), vec![(3, 41)]);
}

#[test]
fn the_same_value_in_both_files_is_fine() {
    let props = format!("{GOOD_PROPS}alluxio.integration.master.resource.mem=1GB\n");
    let c = case(&with_toml("[master]", "mem = \"1024MB\""), Some(&props));
    let l = load(&c).unwrap();
    assert_eq!(l.desired.master.task.mem.to_string(), "1GB");
}

#[test]
fn local_jar_without_home_is_rejected() {
    let (e, _) = error(
        GOOD_TOML,
        Some("alluxio.integration.mesos.alluxio.jar.url=LOCAL\n"),
    );
    let (msg, help, locs) = single(&e);
    assert!(msg.contains("`alluxio.home` is not set"), "{msg}");
    assert!(help.contains("alluxio.home=/opt/alluxio"), "{help}");
    assert_eq!(at(&locs, "alluxio-site.properties"), vec![(1, 43)]);
}

#[test]
fn jdk_url_without_jdk_path_is_rejected() {
    let props =
        format!("{GOOD_PROPS}alluxio.integration.mesos.jdk.url=https://x.example/jdk.tar.gz\n");
    let (e, _) = error(GOOD_TOML, Some(&props));
    let (msg, help, locs) = single(&e);
    assert!(msg.contains("jdk.path"), "{msg}");
    assert!(help.contains("JAVA_HOME"), "{help}");
    assert_eq!(at(&locs, "alluxio-site.properties"), vec![(3, 35)]);
}

#[test]
fn a_missing_jar_url_names_both_choices() {
    let (e, _) = error(GOOD_TOML, Some("alluxio.home=/opt/alluxio\n"));
    let (msg, help, _) = single(&e);
    assert!(
        msg.contains("alluxio.integration.mesos.alluxio.jar.url"),
        "{msg}"
    );
    assert!(help.contains("LOCAL together with alluxio.home"), "{help}");
    assert!(help.contains("tarball"), "{help}");
}

#[test]
fn several_masters_need_zookeeper() {
    let toml = GOOD_TOML.replace("count = 1", "count = 3");
    let (e, _) = error(&toml, Some(GOOD_PROPS));
    let (msg, help, locs) = single(&e);
    assert_eq!(msg, "3 masters need ZooKeeper, which is not enabled");
    assert!(help.contains("alluxio.zookeeper.enabled=true"), "{help}");
    assert!(help.contains("alluxio.zookeeper.address"), "{help}");
    assert_eq!(at(&locs, "alluxio-mesos.toml"), vec![(8, 9)]);

    let props = format!("{GOOD_PROPS}alluxio.zookeeper.enabled=true\n");
    let (e, _) = error(&toml, Some(&props));
    assert!(single(&e)
        .0
        .contains("`alluxio.zookeeper.address` is not set"));

    let props =
        format!("{GOOD_PROPS}alluxio.zookeeper.enabled=true\nalluxio.zookeeper.address=zk:2181\n");
    let c = case(&toml, Some(&props));
    assert_eq!(
        load(&c).unwrap().desired.zookeeper.as_deref(),
        Some("zk:2181")
    );
}

#[test]
fn a_missing_properties_file_names_the_path_and_the_setting_line() {
    let toml = GOOD_TOML.replace(
        "[master]",
        "[alluxio]\nsite_properties = \"conf/site.properties\"\n\n[master]",
    );
    let (e, dir) = error(&toml, Some(GOOD_PROPS));
    let (msg, help, locs) = single(&e);
    assert!(
        msg.contains(&format!("{dir}/conf/site.properties does not exist")),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("{dir}/alluxio-mesos.toml:8")),
        "{msg}"
    );
    assert!(help.contains("alluxio.site_properties"), "{help}");
    assert_eq!(at(&locs, "alluxio-mesos.toml"), vec![(8, 19)]);

    let (e, dir) = error(GOOD_TOML, None);
    let (msg, _, _) = single(&e);
    assert!(
        msg.contains(&format!("{dir}/alluxio-site.properties does not exist")),
        "{msg}"
    );
    assert!(msg.contains("the default"), "{msg}");
}

#[test]
fn zero_masters_are_rejected() {
    let (e, _) = error(
        &GOOD_TOML.replace("count = 1", "count = 0"),
        Some(GOOD_PROPS),
    );
    let (msg, _, locs) = single(&e);
    assert!(msg.contains("master count is 0"), "{msg}");
    assert_eq!(at(&locs, "alluxio-mesos.toml"), vec![(8, 9)]);
}

#[test]
fn zero_max_unavailable_is_rejected() {
    let (e, _) = error(
        &with_toml("[worker]", "max_unavailable = 0"),
        Some(GOOD_PROPS),
    );
    let (msg, help, locs) = single(&e);
    assert!(msg.contains("max_unavailable` is 0"), "{msg}");
    assert!(help.contains("max_unavailable = 1"), "{help}");
    assert_eq!(at(&locs, "alluxio-mesos.toml"), vec![(11, 19)]);
}

#[test]
fn worker_count_must_be_all_or_a_number() {
    let toml = GOOD_TOML.replace("count = \"all\"", "count = \"some string\"");
    let (e, _) = error(&toml, Some(GOOD_PROPS));
    let (msg, help, locs) = single(&e);
    assert_eq!(
        msg,
        "invalid `worker.count`: \"some string\" is neither \"all\" nor a number"
    );
    assert!(help.contains("count = \"all\""), "{help}");
    assert_eq!(at(&locs, "alluxio-mesos.toml"), vec![(11, 9)]);
}

#[test]
fn a_bad_constraint_is_located_inside_the_string() {
    let (e, _) = error(
        &with_toml("[worker]", "constraints = \"rack:r1 & & zone:z\""),
        Some(GOOD_PROPS),
    );
    let (msg, _, locs) = single(&e);
    assert!(msg.starts_with("invalid `worker.constraints`"), "{msg}");
    // The second `&` is at offset 10 of the expression; the string opens at column 15.
    assert_eq!(at(&locs, "alluxio-mesos.toml"), vec![(11, 26)]);
}

#[test]
fn a_bad_mesos_master_says_which_forms_work() {
    let toml = GOOD_TOML.replace("master = \"local\"", "master = \"mesos:5050\"");
    let (e, _) = error(&toml, Some(GOOD_PROPS));
    let (msg, help, locs) = single(&e);
    assert!(msg.contains("write http://mesos:5050"), "{msg}");
    assert!(help.contains("zk://"), "{help}");
    assert_eq!(at(&locs, "alluxio-mesos.toml"), vec![(4, 10)]);
}

#[test]
fn several_problems_are_reported_together() {
    let toml = GOOD_TOML
        .replace("count = 1", "count = 0")
        .replace("[worker]", "[worker]\nmax_unavailable = 0");
    let (e, _) = error(&toml, Some(GOOD_PROPS));
    assert_eq!(e.problems().len(), 2, "{:?}", e.problems());
    assert_eq!(e.to_string(), "the deployment has 2 problems");
    // A missing properties file does not also report the settings it would have held.
    let (e, _) = error(&toml, None);
    let codes: Vec<&str> = e.problems().iter().map(|p| p.code_name()).collect();
    assert!(codes.contains(&"desired::missing_properties"), "{codes:?}");
    assert!(!codes.contains(&"desired::missing_jar_url"), "{codes:?}");
}

#[test]
fn the_framework_secret_prefers_the_secret_file_then_the_environment() {
    let toml = GOOD_TOML.replace(
        "user = \"alluxio\"",
        "user = \"alluxio\"\nsecret_file = \"secret.txt\"",
    );
    let c = case(&toml, Some(GOOD_PROPS));
    std::fs::write(c.toml.parent().unwrap().join("secret.txt"), "from-file\n").unwrap();
    let env = |k: &str| (k == "ALLUXIO_MESOS_SECRET").then(|| "from-env".to_string());
    let l = load_with_env(&c.toml, &env).unwrap();
    assert_eq!(l.desired.mesos.secret.unwrap().expose(), "from-file");

    let c = case(GOOD_TOML, Some(GOOD_PROPS));
    let env = |k: &str| match k {
        "ALLUXIO_MESOS_SECRET" => Some("from-env".to_string()),
        "USER" => Some("u".to_string()),
        _ => None,
    };
    let l = load_with_env(&c.toml, &env).unwrap();
    assert_eq!(l.desired.mesos.secret.unwrap().expose(), "from-env");
    assert!(l.warnings.is_empty());
}

#[test]
fn a_secret_in_the_properties_file_works_with_a_warning_and_stays_out_of_the_site() {
    let props = format!("{GOOD_PROPS}alluxio.integration.mesos.secret=s3cr3t\n");
    let c = case(GOOD_TOML, Some(&props));
    let l = load(&c).unwrap();
    assert_eq!(l.desired.mesos.secret.as_ref().unwrap().expose(), "s3cr3t");
    assert_eq!(l.warnings.len(), 1);
    let w = &l.warnings[0];
    assert!(w.help_text().unwrap().contains("secret_file"));
    assert_eq!(at(&w.locations(), "alluxio-site.properties"), vec![(3, 34)]);
    assert!(l
        .desired
        .site
        .get("alluxio.integration.mesos.secret")
        .is_none());
}

#[test]
fn a_missing_secret_file_is_located() {
    let toml = GOOD_TOML.replace(
        "user = \"alluxio\"",
        "user = \"alluxio\"\nsecret_file = \"nope.txt\"",
    );
    let (e, _) = error(&toml, Some(GOOD_PROPS));
    let (msg, _, locs) = single(&e);
    assert!(msg.contains("nope.txt"), "{msg}");
    assert_eq!(at(&locs, "alluxio-mesos.toml"), vec![(6, 15)]);
}

const CANARY: &str = "canary-7f3a9c";

fn assert_no_canary(text: &str) {
    assert!(!text.contains(CANARY), "secret leaked: {text}");
}

/// Renders an error the way the CLI will, plus its Debug form.
fn rendered(e: DesiredError) -> String {
    let debug = format!("{e:?}");
    let report = miette::Report::new(e);
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .render_report(&mut out, report.as_ref())
        .unwrap();
    format!("{debug}\n{report:?}\n{out}")
}

#[test]
fn a_canary_secret_never_appears_in_debug_output_or_errors() {
    // Valid deployment: every secret source at once.
    let toml = GOOD_TOML.replace(
        "user = \"alluxio\"",
        "user = \"alluxio\"\nsecret_file = \"secret.txt\"",
    );
    let props = format!(
        "{GOOD_PROPS}alluxio.integration.mesos.secret={CANARY}\nfs.s3a.secretKey={CANARY}\n"
    );
    let c = case(&toml, Some(&props));
    std::fs::write(c.toml.parent().unwrap().join("secret.txt"), CANARY).unwrap();
    let env = |k: &str| (k == "USER" || k == "ALLUXIO_MESOS_SECRET").then(|| CANARY.to_string());
    let l = load_with_env(&c.toml, &env).unwrap();
    assert_no_canary(&format!("{:?}", l.desired));
    assert_no_canary(&format!("{:?}", l.warnings));
    for w in l.warnings {
        assert_no_canary(&rendered(DesiredError::new(vec![w])));
    }

    // Invalid deployments whose diagnostics point at or near the secrets.
    let bad_props = format!(
        "alluxio.integration.mesos.secret={CANARY}\nalluxio.integration.mesos.secret.typo={CANARY}\nalluxio.master.port=abc\nmy.password : {CANARY}\nalluxio.integration.mesos.alluxio.jar.url=LOCAL\n"
    );
    let bad_toml = format!(
        "{}\n[alluxio]\npassword = \"{CANARY}\"\n",
        GOOD_TOML.replace("count = 1", "count = 2")
    );
    let unparsable_props = format!("my.secret.key={CANARY}\nbad=\\u12x4\n");
    for (toml, props) in [
        (GOOD_TOML.to_string(), bad_props.clone()),
        (bad_toml, bad_props),
        (GOOD_TOML.to_string(), unparsable_props),
    ] {
        let c = case(&toml, Some(&props));
        let e = load_with_env(&c.toml, &env).unwrap_err();
        assert_no_canary(&rendered(e));
    }
}

#[test]
fn diagnostics_render_with_file_line_and_column() {
    let (e, _) = error(&with_toml("[master]", "cout = 2"), Some(GOOD_PROPS));
    let out = rendered(e);
    assert!(out.contains("alluxio-mesos.toml:8:1"), "{out}");
    assert!(out.contains("did you mean `count`?"), "{out}");
}

#[test]
fn toml_settings_are_written_into_the_site_under_their_alluxio_keys() {
    let toml = with_toml("[worker]", "ramdisk = \"2GB\"\nrpc_port = 31001")
        .replace("[master]", "[master]\nname = \"Master X\"");
    let props = format!("{GOOD_PROPS}alluxio.underfs.address=hdfs://nn:8020/\n");
    let c = case(&toml, Some(&props));
    let site = load(&c).unwrap().desired.site;
    let get = |k: &str| match site.get(k) {
        Some(alluxio_mesos::desired::secrets::PropertyValue::Plain(v)) => v.clone(),
        other => panic!("{k}: {other:?}"),
    };
    assert_eq!(get("alluxio.worker.memory.size"), "2GB");
    assert_eq!(get("alluxio.worker.port"), "31001");
    assert_eq!(get("alluxio.underfs.address"), "hdfs://nn:8020/");
    assert_eq!(get("alluxio.home"), "/opt/alluxio");
    assert_eq!(get("alluxio.integration.mesos.master.name"), "Master X");
}

#[test]
fn a_latin1_properties_file_is_read_as_java_reads_it() {
    let c = case(GOOD_TOML, None);
    let mut bytes = GOOD_PROPS.as_bytes().to_vec();
    bytes.extend_from_slice(b"alluxio.underfs.address=/data/caf");
    bytes.push(0xe9);
    bytes.push(b'\n');
    std::fs::write(
        c.toml.parent().unwrap().join("alluxio-site.properties"),
        bytes,
    )
    .unwrap();
    let site = load(&c).unwrap().desired.site;
    assert_eq!(
        site.get("alluxio.underfs.address"),
        Some(&alluxio_mesos::desired::secrets::PropertyValue::Plain(
            "/data/caf\u{e9}".into()
        ))
    );
}

#[test]
fn a_malformed_unicode_escape_in_the_properties_is_located() {
    let props = format!("{GOOD_PROPS}alluxio.underfs.address=/data/\\u00zz\n");
    let (e, _) = error(GOOD_TOML, Some(&props));
    let (msg, help, locs) = single(&e);
    assert!(msg.contains("malformed \\uXXXX escape"), "{msg}");
    assert!(help.contains("four hex digits"), "{help}");
    assert_eq!(at(&locs, "alluxio-site.properties"), vec![(3, 31)]);
}

#[test]
fn a_missing_deployment_file_is_an_error_not_a_panic() {
    let e = load_with_env(Path::new("/nonexistent/alluxio-mesos.toml"), &no_env).unwrap_err();
    assert!(e.to_string().contains("cannot read the deployment file"));
}

#[test]
fn a_malformed_health_check_is_located_with_the_two_forms() {
    let (e, _) = error(
        &with_toml("[master]", "health_check = { tcp = true, http = \"/\" }"),
        Some(GOOD_PROPS),
    );
    let (msg, help, locs) = single(&e);
    assert!(msg.starts_with("invalid `master.health_check`"), "{msg}");
    assert!(
        help.contains("{ tcp = true }") && help.contains("{ http = \"/\" }"),
        "{help}"
    );
    assert_eq!(at(&locs, "alluxio-mesos.toml")[0].0, 8);
    let (e, _) = error(
        &with_toml("[worker]", "health_check = \"tcp\""),
        Some(GOOD_PROPS),
    );
    let (msg, _, _) = single(&e);
    assert!(msg.contains("must be a table"), "{msg}");
}

#[test]
fn a_misspelt_key_the_tool_reads_gets_a_located_did_you_mean() {
    let props =
        format!("{GOOD_PROPS}alluxio.worker.memroy.size=4GB\nalluxio.worker.rpc.port=29999\n");
    let c = case(GOOD_TOML, Some(&props));
    let l = load(&c).unwrap();
    // Other Alluxio keys (for Alluxio itself) pass without a word.
    assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
    let w = &l.warnings[0];
    assert!(
        w.message().contains("alluxio.worker.memroy.size"),
        "{}",
        w.message()
    );
    assert!(
        w.help_text()
            .unwrap()
            .contains("did you mean `alluxio.worker.memory.size`?"),
        "{:?}",
        w.help_text()
    );
    assert_eq!(at(&w.locations(), "alluxio-site.properties"), vec![(3, 1)]);
}

#[test]
fn without_user_or_logname_the_effective_uids_account_runs_the_tasks() {
    let c = case(
        &GOOD_TOML.replace("user = \"alluxio\"\n", ""),
        Some(GOOD_PROPS),
    );
    let env = |k: &str| (k == alluxio_mesos::desired::ACCOUNT_OF_EUID).then(|| "svc".to_string());
    assert_eq!(
        load_with_env(&c.toml, &env).unwrap().desired.mesos.user,
        "svc"
    );
    // The real lookup: this process's account (`id -un`).
    let id = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    let expected = String::from_utf8(id.stdout).unwrap().trim().to_string();
    assert_eq!(
        alluxio_mesos::desired::effective_user_name(),
        Some(expected)
    );
}

#[test]
fn a_state_url_is_read_and_a_bad_one_is_located() {
    let toml = format!("{GOOD_TOML}\n[state]\nurl = \"zk://z1:2181,z2:2181/alluxio-mesos/t\"\n");
    let c = case(&toml, Some(GOOD_PROPS));
    let d = load(&c).unwrap().desired;
    assert_eq!(
        d.state.unwrap().to_string(),
        "zk://z1:2181,z2:2181/alluxio-mesos/t"
    );
    let bad = format!("{GOOD_TOML}\n[state]\nurl = \"zk://z1:2181\"\n");
    let (e, _) = error(&bad, Some(GOOD_PROPS));
    let (msg, help, locs) = single(&e);
    assert!(
        msg.contains("invalid `state.url`") && msg.contains("no path"),
        "{msg}"
    );
    assert!(help.contains("zk://"), "{help}");
    assert_eq!(at(&locs, "alluxio-mesos.toml").len(), 1);
}
