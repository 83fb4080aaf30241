//! IncrementalAlterConfigs (KIP-339; what `kafka-configs --alter` and the AdminClient's
//! `incrementalAlterConfigs` send) and the legacy AlterConfigs (librdkafka's and
//! kafka-python's `alter_configs`): topic resources become the core's `AlterTopicConfig`,
//! which the broker forwards to the active controller; other resources are refused here.

use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{
    alter_configs_response, AlterConfigsRequest, AlterConfigsResponse, IncrementalAlterConfigsRequest,
    IncrementalAlterConfigsResponse,
};
use rill_core::error::ErrorCode;
use rill_core::protocol::{AlterTopicConfig, AlterTopicConfigResponse, ConfigOperation};

use super::{err, str_bytes};

/// Kafka's `ConfigResource.Type` ids.
const TOPIC: i8 = 2;
const BROKER: i8 = 4;

/// What a resource asks the controller (key, operation, value), or the answer given at once
/// (a refusal, or a no-op on a broker resource).
type Asked = Result<AlterTopicConfig, AlterTopicConfigResponse>;

/// One resource: topic changes become the core's request; other types are refused.
fn asked(
    resource_type: i8,
    name: &str,
    changes: Result<Vec<(String, ConfigOperation, Option<String>)>, AlterTopicConfigResponse>,
    validate_only: bool,
    replace: bool,
) -> Asked {
    let refuse = |error: ErrorCode, message: String| AlterTopicConfigResponse { error, message: Some(message) };
    match resource_type {
        TOPIC => Ok(AlterTopicConfig { topic: name.to_owned(), changes: changes?, validate_only, replace }),
        BROKER => {
            let changes = changes?;
            // Rill keeps no dynamic broker configs, so removing one is a no-op Kafka also
            // answers with success (`kafka-reassign-partitions --verify` clears the replication
            // throttles this way once a move completes). Setting one is refused.
            if let Some((key, ..)) = changes.iter().find(|(key, ..)| !is_broker_config(key)) {
                return Err(refuse(ErrorCode::InvalidConfig, format!("Unknown broker config name: {key}")));
            }
            if changes.iter().all(|(_, operation, _)| *operation == ConfigOperation::Delete) {
                return Err(AlterTopicConfigResponse { error: ErrorCode::None, message: None });
            }
            Err(refuse(
                ErrorCode::InvalidRequest,
                "Rill does not change broker configs while it runs: set them in the broker's config file \
                 (server.properties) and restart it"
                    .to_owned(),
            ))
        }
        other => Err(refuse(ErrorCode::InvalidRequest, format!("Rill cannot alter configs of resource type {other}"))),
    }
}

/// Kafka's broker-level replication throttles (`QuotaConfig`): dynamic-only, so not in the
/// broker config table. Rill does not throttle replication.
const BROKER_THROTTLES: &[&str] = &[
    "leader.replication.throttled.rate",
    "follower.replication.throttled.rate",
    "replica.alter.log.dirs.io.max.bytes.per.second",
];

fn is_broker_config(key: &str) -> bool {
    BROKER_THROTTLES.contains(&key) || crate::kafka_config::kafka_key(key).is_some()
}

/// What each resource of the request asks the controller, or why it is refused at once.
#[must_use]
pub fn alter_requests(request: &IncrementalAlterConfigsRequest) -> Vec<Asked> {
    request
        .resources
        .iter()
        .map(|resource| {
            let changes = resource
                .configs
                .iter()
                .map(|config| {
                    let operation = match config.config_operation {
                        0 => ConfigOperation::Set,
                        1 => ConfigOperation::Delete,
                        2 => ConfigOperation::Append,
                        3 => ConfigOperation::Subtract,
                        other => {
                            return Err(AlterTopicConfigResponse {
                                error: ErrorCode::InvalidRequest,
                                message: Some(format!("Unknown config operation {other} for {}", config.name.as_str())),
                            })
                        }
                    };
                    Ok((
                        config.name.as_str().to_owned(),
                        operation,
                        config.value.as_ref().map(|v| v.as_str().to_owned()),
                    ))
                })
                .collect();
            asked(resource.resource_type, resource.resource_name.as_str(), changes, request.validate_only, false)
        })
        .collect()
}

/// The legacy AlterConfigs (what confluent-kafka's and kafka-python's `alter_configs` send):
/// the named values replace the topic's whole set of overrides.
#[must_use]
pub fn legacy_alter_requests(request: &AlterConfigsRequest) -> Vec<Asked> {
    request
        .resources
        .iter()
        .map(|resource| {
            let changes = resource
                .configs
                .iter()
                .map(|c| {
                    (c.name.as_str().to_owned(), ConfigOperation::Set, c.value.as_ref().map(|v| v.as_str().to_owned()))
                })
                .collect();
            asked(resource.resource_type, resource.resource_name.as_str(), Ok(changes), request.validate_only, true)
        })
        .collect()
}

/// The legacy AlterConfigs response: one entry per resource, in the request's order.
#[must_use]
pub fn alter_configs_response(
    request: &AlterConfigsRequest,
    outcomes: Vec<AlterTopicConfigResponse>,
) -> AlterConfigsResponse {
    let mut response = AlterConfigsResponse::default();
    for (resource, outcome) in request.resources.iter().zip(outcomes) {
        let mut entry = alter_configs_response::AlterConfigsResourceResponse::default();
        entry.resource_type = resource.resource_type;
        entry.resource_name = resource.resource_name.clone();
        entry.error_code = err(outcome.error);
        entry.error_message = outcome.message.as_deref().map(str_bytes);
        response.responses.push(entry);
    }
    response
}

/// The response: one entry per resource, in the request's order.
#[must_use]
pub fn incremental_alter_configs_response(
    request: &IncrementalAlterConfigsRequest,
    outcomes: Vec<AlterTopicConfigResponse>,
) -> IncrementalAlterConfigsResponse {
    let mut response = IncrementalAlterConfigsResponse::default();
    for (resource, outcome) in request.resources.iter().zip(outcomes) {
        let mut entry = AlterConfigsResourceResponse::default();
        entry.resource_type = resource.resource_type;
        entry.resource_name = resource.resource_name.clone();
        entry.error_code = err(outcome.error);
        entry.error_message = outcome.message.as_deref().map(str_bytes);
        response.responses.push(entry);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::incremental_alter_configs_request::{AlterConfigsResource, AlterableConfig};

    fn resource(resource_type: i8, name: &str, configs: &[(&str, i8, Option<&str>)]) -> AlterConfigsResource {
        let mut resource = AlterConfigsResource::default();
        resource.resource_type = resource_type;
        resource.resource_name = str_bytes(name);
        for (key, operation, value) in configs {
            let mut config = AlterableConfig::default();
            config.name = str_bytes(key);
            config.config_operation = *operation;
            config.value = value.map(str_bytes);
            resource.configs.push(config);
        }
        resource
    }

    #[test]
    fn topic_resources_become_core_requests_and_others_are_refused() {
        let mut request = IncrementalAlterConfigsRequest::default();
        request.resources = vec![
            resource(TOPIC, "t", &[("retention.ms", 0, Some("1000")), ("cleanup.policy", 1, None)]),
            resource(BROKER, "1", &[("log.retention.ms", 0, Some("1000"))]),
            resource(TOPIC, "t", &[("retention.ms", 9, Some("1"))]),
            resource(BROKER, "2", &[("leader.replication.throttled.rate", 1, None), ("log.retention.ms", 1, None)]),
            resource(BROKER, "2", &[("log.retention.mss", 1, None)]),
        ];
        let asked = alter_requests(&request);
        let first = asked[0].as_ref().expect("a topic change");
        assert_eq!(first.topic, "t");
        assert_eq!(
            first.changes,
            vec![
                ("retention.ms".to_owned(), ConfigOperation::Set, Some("1000".to_owned())),
                ("cleanup.policy".to_owned(), ConfigOperation::Delete, None)
            ]
        );
        let refused = asked[1].as_ref().expect_err("broker configs are static");
        assert!(refused.message.as_deref().unwrap_or_default().contains("restart"));
        assert_eq!(asked[2].as_ref().expect_err("bad operation").error, ErrorCode::InvalidRequest);
        let removed = asked[3].as_ref().expect_err("answered at once");
        assert_eq!((removed.error, removed.message.as_deref()), (ErrorCode::None, None), "nothing dynamic to remove");
        let unknown = asked[4].as_ref().expect_err("answered at once");
        assert_eq!(unknown.message.as_deref(), Some("Unknown broker config name: log.retention.mss"));
        let outcomes: Vec<AlterTopicConfigResponse> = asked
            .into_iter()
            .map(|a| a.err().unwrap_or(AlterTopicConfigResponse { error: ErrorCode::None, message: None }))
            .collect();
        let response = incremental_alter_configs_response(&request, outcomes);
        let codes: Vec<i16> = response.responses.iter().map(|r| r.error_code).collect();
        assert_eq!(
            codes,
            vec![
                0,
                ErrorCode::InvalidRequest.code(),
                ErrorCode::InvalidRequest.code(),
                0,
                ErrorCode::InvalidConfig.code()
            ]
        );
    }

    #[test]
    fn the_legacy_alter_configs_replaces_every_override() {
        use kafka_protocol::messages::alter_configs_request::{
            AlterConfigsResource as Legacy, AlterableConfig as Value,
        };
        let mut request = AlterConfigsRequest::default();
        let mut resource = Legacy::default();
        resource.resource_type = TOPIC;
        resource.resource_name = str_bytes("t");
        let mut config = Value::default();
        config.name = str_bytes("retention.ms");
        config.value = Some(str_bytes("1000"));
        resource.configs.push(config);
        request.resources.push(resource);
        let asked = legacy_alter_requests(&request);
        let core = asked[0].as_ref().expect("a topic change");
        assert!(core.replace, "AlterConfigs replaces the overrides");
        assert_eq!(core.changes, vec![("retention.ms".to_owned(), ConfigOperation::Set, Some("1000".to_owned()))]);
        let response =
            alter_configs_response(&request, vec![AlterTopicConfigResponse { error: ErrorCode::None, message: None }]);
        assert_eq!((response.responses[0].error_code, response.responses[0].resource_name.as_str()), (0, "t"));
    }
}
