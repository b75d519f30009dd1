//! The shapes read out of a state document with serde: agents,
//! framework headers, tasks and offers, in every Mesos version's spelling.

use super::*;

#[derive(DeriveDeserialize)]
pub(super) struct AgentInfoDoc {
    #[serde(default)]
    pub(super) id: Option<Id>,
    #[serde(default)]
    pub(super) hostname: Option<String>,
    #[serde(default)]
    pub(super) attributes: Option<Attributes>,
    #[serde(default)]
    pub(super) resources: Option<ResourcesDoc>,
}

#[derive(DeriveDeserialize)]
pub(super) struct AgentDoc {
    #[serde(default)]
    pub(super) id: Option<Id>,
    #[serde(default)]
    pub(super) hostname: Option<String>,
    #[serde(default)]
    pub(super) pid: Option<String>,
    #[serde(default)]
    pub(super) attributes: Option<Attributes>,
    #[serde(default)]
    pub(super) active: Option<bool>,
    #[serde(default)]
    pub(super) deactivated: Option<bool>,
    #[serde(default, alias = "total_resources")]
    pub(super) resources: Option<ResourcesDoc>,
    #[serde(default, alias = "allocated_resources")]
    pub(super) used_resources: Option<ResourcesDoc>,
    #[serde(default)]
    pub(super) offered_resources: Option<ResourcesDoc>,
    #[serde(default)]
    pub(super) reserved_resources: Option<BTreeMap<String, ResourcesDoc>>,
    #[serde(default)]
    pub(super) used_resources_full: Option<ResourcesDoc>,
    #[serde(default)]
    pub(super) offered_resources_full: Option<ResourcesDoc>,
    #[serde(default)]
    pub(super) agent_info: Option<AgentInfoDoc>,
}

#[derive(DeriveDeserialize)]
pub(super) struct FrameworkInfoHead {
    #[serde(default)]
    pub(super) id: Option<Id>,
    #[serde(default)]
    pub(super) name: Option<String>,
}

/// What is read of every framework to choose ours; its task lists are
/// skipped without being built.
#[derive(DeriveDeserialize, Default)]
pub(super) struct FrameworkHead {
    #[serde(default)]
    pub(super) id: Option<Id>,
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) active: Option<bool>,
    #[serde(default)]
    pub(super) registered_time: Option<Time>,
    #[serde(default)]
    pub(super) framework_info: Option<FrameworkInfoHead>,
}

impl FrameworkHead {
    pub(super) fn id(&self) -> Option<&str> {
        self.id
            .as_ref()
            .or(self.framework_info.as_ref().and_then(|i| i.id.as_ref()))
            .map(|i| i.0.as_str())
    }
    pub(super) fn name(&self) -> Option<&str> {
        self.name
            .as_deref()
            .or(self.framework_info.as_ref().and_then(|i| i.name.as_deref()))
    }
}

#[derive(DeriveDeserialize)]
pub(super) struct OfferDoc {
    #[serde(default, alias = "agent_id")]
    pub(super) slave_id: Option<Id>,
    #[serde(default)]
    pub(super) resources: Option<ResourcesDoc>,
}

#[derive(DeriveDeserialize, Clone)]
pub(super) struct StatusDoc {
    #[serde(default)]
    pub(super) state: Option<String>,
    #[serde(default)]
    pub(super) timestamp: Option<Time>,
    #[serde(default)]
    pub(super) message: Option<String>,
}

#[derive(DeriveDeserialize, Clone)]
pub(super) struct TaskDoc {
    #[serde(default, alias = "task_id")]
    pub(super) id: Option<Id>,
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default, alias = "agent_id")]
    pub(super) slave_id: Option<Id>,
    #[serde(default)]
    pub(super) state: Option<String>,
    #[serde(default)]
    pub(super) resources: Option<ResourcesDoc>,
    #[serde(default)]
    pub(super) statuses: Option<Vec<StatusDoc>>,
    #[serde(default)]
    pub(super) labels: Option<Labels>,
    /// Empty (or absent) for a command task.
    #[serde(default)]
    pub(super) executor_id: Option<Id>,
}

/// A task outside any framework (`orphan_tasks`, v1 `get_tasks`): only
/// its framework ID is read, borrowed, to decide whether it is ours.
#[derive(DeriveDeserialize)]
pub(super) struct LooseTaskHead<'a> {
    #[serde(default, borrow)]
    pub(super) framework_id: Option<IdRef<'a>>,
}

/// An ID borrowed from the document when it has no escapes.
pub(super) struct IdRef<'a>(pub(super) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for IdRef<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = IdRef<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an ID: a string or {\"value\": string}")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(IdRef(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(IdRef(Cow::Owned(v.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut value = None;
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    if key == "value" {
                        value = Some(map.next_value::<IdRef<'a>>()?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                value.ok_or_else(|| de::Error::missing_field("value"))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}
