//! Whatever the two files say, loading never panics, and every failure is
//! explained: each problem has a help line and renders with miette.

use alluxio_mesos::desired::load::KNOWN_PROPERTIES;
use alluxio_mesos::desired::{load_with_env, DesiredError};
use proptest::prelude::*;

/// The keys alluxio-mesos reads, and one it does not (a did-you-mean case).
fn property_key() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        4 => proptest::sample::select(KNOWN_PROPERTIES),
        1 => Just("alluxio.integration.mesos.typo"),
    ]
}

const VALUES: &[&str] = &[
    "LOCAL",
    "/opt/alluxio",
    "1",
    "0",
    "3",
    "-1",
    "1.5",
    "70000",
    "31000",
    "29999",
    "4GB",
    "0.5GB",
    "lots",
    "true",
    "false",
    "",
    "zk:2181",
    "https://x/a.tgz",
    "\\u00zz",
    "é",
];

const TOML_LINES: &[&str] = &[
    "[mesos]\nmaster = \"local\"",
    "[mesos]\nmaster = \"mesos:5050\"\nuser = \"u\"",
    "[mesos]\nfailover_timeout = \"0s\"",
    "[mesos]\nsecret_file = \"missing\"",
    "[master]\ncount = 2",
    "[master]\ncount = 0\ncpus = 2",
    "[master]\nmem = 1024\nhostname = \"h\"",
    "[master]\nconstraints = \"rack:r1 & (\"",
    "[worker]\ncount = \"some\"",
    "[worker]\ncount = 3\nramdisk = \"2GB\"\nmax_unavailable = 0",
    "[worker]\nrpc_port = 19998",
    "[alluxio]\njar_url = \"LOCAL\"\nhome = \"/a\"",
    "[alluxio]\nsite_properties = \"nope.properties\"",
    "[alluxio]\nmystery = 1",
    "name = 7",
    "= broken",
];

fn render(e: &DesiredError) -> String {
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .render_report(&mut out, e)
        .expect("renders");
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn loading_never_panics_and_every_problem_says_how_to_fix_it(
        props in proptest::collection::vec(
            (property_key(), proptest::sample::select(VALUES)),
            0..8,
        ),
        toml in proptest::collection::vec(proptest::sample::select(TOML_LINES), 0..4),
        has_name in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut text = if has_name { "name = \"f\"\n".to_string() } else { String::new() };
        // Each table at most once: TOML forbids redefining one.
        let mut seen = std::collections::HashSet::new();
        for t in toml {
            if seen.insert(t.split('\n').next().unwrap()) || !t.starts_with('[') {
                text.push_str(t);
                text.push('\n');
            }
        }
        let props: String = props.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        let path = dir.path().join("alluxio-mesos.toml");
        std::fs::write(&path, &text).unwrap();
        std::fs::write(dir.path().join("alluxio-site.properties"), &props).unwrap();
        match load_with_env(&path, &|_| None) {
            Ok(loaded) => {
                prop_assert!(loaded.desired.master.count >= 1);
                prop_assert!(loaded.desired.worker.max_unavailable >= 1);
            }
            Err(e) => {
                prop_assert!(!e.problems().is_empty());
                for p in e.problems() {
                    prop_assert!(p.is_error());
                    prop_assert!(!p.message().is_empty());
                    prop_assert!(p.help_text().is_some_and(|h| !h.is_empty()), "no help: {}", p.message());
                    for l in p.locations() {
                        prop_assert!(l.line >= 1 && l.column >= 1);
                    }
                }
                render(&e);
            }
        }
    }
}
