//! The `[state]`, `[mesos]` and `[alluxio]` sections, the framework
//! secret, ZooKeeper and placement constraints.

use super::*;

impl Context<'_> {
    /// `[state] url`: where the state lives (`None`: the default file).
    /// `Some(None)` is "no [state] url"; `None` is an error reported.
    pub(super) fn state_location(&mut self) -> Option<Option<crate::state::StateLocation>> {
        let Some(f) = self.read_toml(&settings::STATE_URL, &TEXT) else {
            return (!self.failed(&settings::STATE_URL)).then_some(None);
        };
        match crate::state::StateLocation::parse(&f.value) {
            Ok(l) => Some(Some(l)),
            Err(why) => {
                self.error(
                    Problem::error("desired::invalid_value", format!("invalid `state.url`: {why}"))
                        .with_help("a ZooKeeper URL such as zk://zk1:2181,zk2:2181/alluxio-mesos/<deployment>, or a file path")
                        .with_located(f.at.as_ref()),
                );
                self.failed.insert(settings::STATE_URL.name());
                None
            }
        }
    }

    pub(super) fn mesos(
        &mut self,
        name: Option<String>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Option<MesosSettings> {
        let master = self
            .read_toml(&settings::MESOS_MASTER, &TEXT)
            .and_then(|f| match parse_master_locator(&f.value) {
                Ok(m) => Some(m),
                Err(why) => {
                    self.error(
                        Problem::error(
                            "desired::invalid_value",
                            format!("invalid `mesos.master`: {why}"),
                        )
                        .with_help(MASTER_FORMS)
                        .with_located(f.at.as_ref()),
                    );
                    self.failed.insert(settings::MESOS_MASTER.name());
                    None
                }
            });
        let framework_name = self
            .read_toml(&settings::FRAMEWORK_NAME, &TEXT)
            .map(|f| f.value);
        let principal = self.setting_or_default(&settings::PRINCIPAL, &TEXT);
        let role = self.setting_or_default(&settings::ROLE, &TEXT);
        let user = self.setting(&settings::USER, &TEXT);
        let user = match user {
            Some(u) => Some(u.value),
            None if self.failed(&settings::USER) => None,
            None => match env("USER")
                .filter(|u| !u.trim().is_empty())
                .or_else(|| env("LOGNAME"))
                .filter(|u| !u.trim().is_empty())
                .or_else(|| env(ACCOUNT_OF_EUID))
                .filter(|u| !u.trim().is_empty())
            {
                Some(u) => Some(u),
                None => {
                    self.error(
                        Problem::error("desired::missing_user", "no user to run the tasks as: neither `mesos.user` nor `alluxio.integration.mesos.user` is set, USER, LOGNAME and the effective uid's account name are all unknown")
                            .with_help("set user = \"alluxio\" in [mesos] (the Unix user the tasks run as on the agents)"),
                    );
                    None
                }
            },
        };
        let failover = self.setting_unless_failed(&settings::FAILOVER_TIMEOUT, &DURATION);
        let failover_timeout = match failover {
            Some(f) if f.value.is_zero() => {
                self.error(
                    Problem::error("desired::invalid_value", "`mesos.failover_timeout` must be longer than 0")
                        .with_help("the CLI disconnects after every apply and Mesos kills the tasks of a framework when its failover timeout ends: keep the default \"4w\" or use a long duration")
                        .with_located(f.at.as_ref()),
                );
                None
            }
            Some(f) => Some(f.value),
            None => None,
        };
        let ca_cert = self.existing_path(&settings::CA_CERT, "CA certificate");
        let local_cluster = self.existing_path(&settings::LOCAL_CLUSTER, "local cluster file");
        if let (Some(_), Some(m)) = (&local_cluster, &master) {
            if *m != crate::desired::MasterLocator::Local {
                let e = self.toml.get_setting(&settings::LOCAL_CLUSTER).cloned();
                let label = e.map(|e| self.toml_label(&e, "only used by master = \"local\""));
                self.warnings.push(
                    Problem::warning(
                        "desired::unused_setting",
                        "`mesos.local_cluster` is ignored unless mesos.master = \"local\"",
                    )
                    .with_help("remove local_cluster, or set master = \"local\"")
                    .with_located(label.as_ref()),
                );
            }
        }
        let secret = self.secret(env);
        let framework_name = framework_name.or(name)?;
        let migrate_from = self
            .read_toml(&settings::MIGRATE_FROM, &TEXT)
            .map(|f| f.value);
        let operator = self
            .read_toml(&settings::OPERATOR_PRINCIPAL, &TEXT)
            .map(|p| {
                let secret = env(OPERATOR_SECRET_ENV)
                    .filter(|s| !s.is_empty())
                    .map(Secret::new);
                (p.value, secret)
            });
        Some(MesosSettings {
            master,
            framework_name,
            principal: Some(principal.value),
            secret: secret?,
            migrate_from,
            operator,
            role: role.value,
            user: user?,
            failover_timeout: failover_timeout?,
            ca_cert,
            local_cluster,
        })
    }

    /// The framework secret: `[mesos] secret_file`, else `ALLUXIO_MESOS_SECRET`,
    /// else the property (with a warning). Outer None: an error was reported.
    pub(super) fn secret(
        &mut self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Option<Secret>> {
        let from_prop = self
            .props
            .as_ref()
            .and_then(|p| p.get(SECRET_PROPERTY))
            .filter(|e| !e.value.is_empty())
            .cloned();
        let prop_label = from_prop
            .as_ref()
            .map(|e| self.prop_label(e, "the secret is here"));
        let from_file = match self.toml_path(&settings::SECRET_FILE) {
            Some((path, f)) => {
                match crate::limits::read_to_string(&path, crate::limits::SECRET_FILE) {
                    Ok(s) => {
                        let s = s.strip_suffix('\n').unwrap_or(&s);
                        let s = s.strip_suffix('\r').unwrap_or(s);
                        if s.is_empty() {
                            self.error(
                            Problem::error("desired::empty_secret", format!("the secret file {} is empty", path.display()))
                                .with_help("write the framework secret into the file, or remove secret_file")
                                .with_located(f.at.as_ref()),
                        );
                            return None;
                        }
                        Some(Secret::new(s))
                    }
                    Err(ReadError::TooLarge { limit }) => {
                        self.error(
                        Problem::error("desired::secret_file_too_large", format!("the secret file {} is larger than {}: a secret file holds one secret", path.display(), size_text(limit)))
                            .with_help("point `mesos.secret_file` at a file that holds only the framework secret")
                            .with_located(f.at.as_ref()),
                    );
                        return None;
                    }
                    Err(ReadError::Io(e)) => {
                        self.error(
                        Problem::error("desired::missing_file", format!("cannot read the secret file {}: {e}", path.display()))
                            .with_help("fix `mesos.secret_file` (relative to the deployment file) or create the file")
                            .with_located(f.at.as_ref()),
                    );
                        return None;
                    }
                }
            }
            None if self.failed(&settings::SECRET_FILE) => return None,
            None => None,
        };
        let from_env = env(SECRET_ENV).filter(|s| !s.is_empty()).map(Secret::new);
        let chosen = from_file.or(from_env);
        if from_prop.is_some() {
            let (message, help) = if chosen.is_some() {
                (
                    format!("`{SECRET_PROPERTY}` is ignored: the secret from [mesos] secret_file or {SECRET_ENV} takes precedence"),
                    format!("remove `{SECRET_PROPERTY}` from the properties file"),
                )
            } else {
                (
                    format!("the framework secret is in the properties file (`{SECRET_PROPERTY}`), which is usually under version control"),
                    format!("move it to a file named by secret_file in [mesos] (kept out of version control), or to the {SECRET_ENV} environment variable"),
                )
            };
            self.warnings.push(
                Problem::warning("desired::secret_in_properties", message)
                    .with_help(help)
                    .with_located(prop_label.as_ref()),
            );
        }
        Some(chosen.or_else(|| from_prop.map(|e| Secret::new(e.value))))
    }

    /// `[alluxio] secret_properties`: keys (with `*` wildcards) of
    /// properties to treat as secrets besides those the built-in rule knows.
    pub(super) fn secret_patterns(&mut self) -> SecretKeys {
        SecretKeys::new(
            self.read_toml(&settings::SECRET_PROPERTIES, &KEY_PATTERNS)
                .map(|f| f.value)
                .unwrap_or_default(),
        )
    }

    pub(super) fn install(&mut self) -> Option<Install> {
        let jar = self.setting(&settings::JAR_URL, &TEXT);
        let home = self.setting(&settings::HOME, &TEXT);
        let jdk_url = self.setting(&settings::JDK_URL, &TEXT);
        let jdk_path = self.setting(&settings::JDK_PATH, &TEXT);
        let alluxio = match jar {
            Some(j) if j.value.eq_ignore_ascii_case("LOCAL") => match home {
                Some(h) => Some(AlluxioSource::Local { home: h.value }),
                None if self.failed(&settings::HOME) => None,
                None => {
                    self.error(
                        Problem::error("desired::local_without_home", "Alluxio is LOCAL but `alluxio.home` is not set: where is it installed on the agents?")
                            .with_help("set alluxio.home=/opt/alluxio in the properties file (or home in [alluxio]) to the install path on every agent")
                            .with_located(j.at.as_ref()),
                    );
                    None
                }
            },
            Some(j) if j.value.contains(char::is_whitespace) => {
                self.error(
                    Problem::error("desired::invalid_value", "the Alluxio tarball URL contains whitespace")
                        .with_help("write LOCAL or a URL Mesos can fetch, such as https://downloads.example.com/alluxio-1.8.2-bin.tar.gz")
                        .with_located(j.at.as_ref()),
                );
                None
            }
            Some(j) => Some(AlluxioSource::Tarball { url: j.value }),
            None if self.failed(&settings::JAR_URL) || self.failed.contains("properties") => None,
            None => {
                self.error(
                    Problem::error("desired::missing_jar_url", "`alluxio.integration.mesos.alluxio.jar.url` is not set: where does Alluxio come from on the agents?")
                        .with_help("either set alluxio.integration.mesos.alluxio.jar.url=LOCAL together with alluxio.home=<install path on every agent>, or set it to the URL of an Alluxio tarball for Mesos to fetch (jar_url in [alluxio] works too)"),
                );
                None
            }
        };
        let jdk = match jdk_url {
            None if self.failed(&settings::JDK_URL) => None,
            None => Some(JdkSource::Local),
            Some(u) if u.value.eq_ignore_ascii_case("LOCAL") => Some(JdkSource::Local),
            Some(u) => match jdk_path {
                Some(p) => Some(JdkSource::Download {
                    url: u.value,
                    path: p.value,
                }),
                None if self.failed(&settings::JDK_PATH) => None,
                None => {
                    self.error(
                        Problem::error("desired::jdk_without_path", "a JDK URL is set but `alluxio.integration.mesos.jdk.path` is not: which directory does the tarball unpack to?")
                            .with_help("set alluxio.integration.mesos.jdk.path to the directory the JDK tarball unpacks to (it becomes JAVA_HOME), e.g. jdk1.8.0_151; or set the JDK URL to LOCAL")
                            .with_located(u.at.as_ref()),
                    );
                    None
                }
            },
        };
        Some(Install {
            alluxio: alluxio?,
            jdk: jdk?,
        })
    }

    /// `alluxio.zookeeper.address` when ZooKeeper is enabled.
    pub(super) fn zookeeper(&mut self) -> Option<String> {
        let enabled = self.read_prop(&settings::ZOOKEEPER_ENABLED, &BOOL);
        let address = self.read_prop(&settings::ZOOKEEPER_ADDRESS, &TEXT);
        match (enabled, address) {
            (Some(e), Some(a)) if e.value => Some(a.value),
            (Some(e), None) if e.value => {
                if self.failed.insert(settings::ZOOKEEPER_ADDRESS.name()) {
                    self.error(
                        Problem::error("desired::zookeeper_without_address", "`alluxio.zookeeper.enabled` is true but `alluxio.zookeeper.address` is not set")
                            .with_help("set alluxio.zookeeper.address=zk1:2181,zk2:2181,zk3:2181 in the properties file")
                            .with_located(e.at.as_ref()),
                    );
                }
                None
            }
            (_, Some(a)) => {
                self.warnings.push(
                    Problem::warning("desired::unused_setting", "`alluxio.zookeeper.address` is ignored because `alluxio.zookeeper.enabled` is not true")
                        .with_help("set alluxio.zookeeper.enabled=true to use ZooKeeper, or remove the address")
                        .with_located(a.at.as_ref()),
                );
                None
            }
            _ => None,
        }
    }

    pub(super) fn constraints(&mut self, setting: &Setting) -> Option<Option<Constraint>> {
        let Some(e) = self.toml.get_setting(setting).cloned() else {
            return Some(None);
        };
        let f = self.read_toml(
            setting,
            &Kind {
                from_toml: |v| match v {
                    toml::Value::String(s) => Ok(s.clone()),
                    _ => Err(Unfit::Type),
                },
                ..TEXT
            },
        )?;
        match parse_constraint(&f.value) {
            Ok(c) => Some(Some(c)),
            Err(err) => {
                // Point inside the string when its source text is the value itself (no escapes).
                let raw = &self.toml.file.text()[e.span.clone()];
                let span = if raw.len() == f.value.len() + 2 && raw[1..raw.len() - 1] == f.value {
                    let at = e.span.start + 1 + err.offset;
                    at..(at + 1).min(e.span.end - 1).max(at)
                } else {
                    e.span.clone()
                };
                let file = self.toml.file.clone();
                self.error(
                    Problem::error("desired::invalid_constraint", format!("invalid `{}`: {}", setting.name(), err.message))
                        .with_help("write attribute tests name:value joined by & (and), | (or), ! (not) and parentheses, e.g. \"rack:r1 & !zone:z2\"")
                        .with_label(&file, span, "here"),
                );
                None
            }
        }
    }
}
