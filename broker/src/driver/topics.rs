//! The controller's topic changes on this node: creating, growing and deleting topics on the
//! active controller (or saying which node is active), auto-creation forwarded to it, and
//! admin answers held until the controller's record of the change is committed.

use super::*;

/// Builds an admin response from the committed metadata and each item's outcome.
pub(super) type BuildAdminReply = Box<dyn FnOnce(&protocol::MetadataImage, Vec<Result<(), Error>>) -> ResponseKind>;

/// An admin change answered once the controller's record of it is committed.
pub(super) struct Committing {
    offset: i64,
    outcomes: Vec<Result<(), Error>>,
    build: BuildAdminReply,
    reply: oneshot::Sender<ResponseKind>,
}

impl Driver {
    // ----- the controller's topic changes -----

    /// Topic changes (CreateTopics, CreatePartitions, DeleteTopics): per item, its change,
    /// `None` when there is nothing to do (validate only), or its refusal here. On the active
    /// controller's node they are made here and answered once committed; any other broker
    /// forwards them to the active controller (KIP-590), which answers once committed.
    pub(super) fn change_topics(
        &mut self,
        conn: u32,
        asked: Vec<Result<Option<ChangeTopic>, Error>>,
        build: BuildAdminReply,
    ) -> Reply {
        if self.is_controller() {
            let outcomes =
                asked.into_iter().map(|asked| asked?.map_or(Ok(()), |change| self.change_topic(&change))).collect();
            return self.reply_when_committed(outcomes, build);
        }
        let messages: Vec<Message> =
            asked.iter().filter_map(|asked| asked.as_ref().ok().cloned().flatten().map(Message::ChangeTopic)).collect();
        let finish: Finish = Box::new(move |answers| {
            let mut answers = answers.into_iter();
            // The created topics as the controller committed them.
            let mut image = protocol::MetadataImage::default();
            let outcomes = asked
                .into_iter()
                .map(|asked| match asked? {
                    None => Ok(()),
                    Some(_) => match answers.next() {
                        Some(Message::ChangeTopicResponse(answer)) if answer.error == ErrorCode::None => {
                            for (name, topic) in answer.created.map(|created| created.topics).unwrap_or_default() {
                                image.topics.insert(name, topic);
                            }
                            Ok(())
                        }
                        Some(Message::ChangeTopicResponse(answer)) => {
                            Err(Error::new(answer.error, answer.message.unwrap_or_default()))
                        }
                        other => Err(Error::new(
                            ErrorCode::UnknownServerError,
                            format!("the controller answered {:?}", other.map(|m| m.kind())),
                        )),
                    },
                })
                .collect();
            build(&image, outcomes)
        });
        if messages.is_empty() {
            return Reply::Now(Box::new(finish(Vec::new())));
        }
        self.gather(conn, messages, finish)
    }

    /// Answers now, or (an active controller whose change is not committed yet) once the
    /// record is committed — Kafka's controller answers CreateTopics and DeleteTopics only then.
    pub(super) fn reply_when_committed(&mut self, outcomes: Vec<Result<(), Error>>, build: BuildAdminReply) -> Reply {
        let pending = self.controller.as_ref().and_then(QuorumController::uncommitted_offset);
        match pending {
            Some(offset) if outcomes.iter().any(Result::is_ok) => {
                let (reply, response) = oneshot::channel();
                self.committing.push(Committing { offset, outcomes, build, reply });
                Reply::Later(response)
            }
            _ => Reply::Now(Box::new(build(self.image(), outcomes))),
        }
    }

    /// Sends the admin answers whose records committed; if the controller lost its leadership
    /// first, `NOT_CONTROLLER` (the change may or may not take effect: retry and look).
    pub(super) fn complete_commits(&mut self) {
        if self.committing.is_empty() {
            return;
        }
        let controller = self.controller.as_ref();
        let active = controller.is_some_and(|c| c.active().is_some());
        let hw = controller.map_or(-1, |c| c.quorum().high_watermark());
        let (done, waiting): (Vec<Committing>, Vec<Committing>) =
            std::mem::take(&mut self.committing).into_iter().partition(|c| !active || hw > c.offset);
        self.committing = waiting;
        for committing in done {
            let outcomes = if active {
                committing.outcomes
            } else {
                let lost = || {
                    Error::new(
                        ErrorCode::NotController,
                        "the controller lost its leadership before the change was committed; look, then retry",
                    )
                };
                committing.outcomes.into_iter().map(|o| o.and_then(|()| Err(lost()))).collect()
            };
            let _ = committing.reply.send((committing.build)(self.image(), outcomes));
        }
    }

    /// The active controller as this node knows it (itself, or the one its broker heard from).
    pub(super) fn active_controller_id(&self) -> i32 {
        if self.is_controller() {
            return self.config.node_id;
        }
        self.known_active_controller().unwrap_or_else(|| self.nodes.first().map_or(self.config.node_id, |n| n.id))
    }

    pub(super) fn not_controller(&self) -> Error {
        match self.known_active_controller().filter(|id| *id != self.config.node_id) {
            Some(active) => Error::new(
                ErrorCode::NotController,
                format!("node {active} is the active controller: send topic changes there"),
            ),
            None => {
                Error::new(ErrorCode::NotController, "no controller is active yet (the quorum is electing one); retry")
            }
        }
    }

    /// Creates, grows or deletes a topic on this node's active controller (`NOT_CONTROLLER`
    /// when it has none).
    fn change_topic(&mut self, change: &ChangeTopic) -> Result<(), Error> {
        let now = self.now_ms();
        let Some(controller) = self.controller.as_mut().filter(|c| c.active().is_some()) else {
            return Err(self.not_controller());
        };
        controller.with_active(now, |active| active.change_topic(now, change))?;
        match change {
            ChangeTopic::Create(_) => {}
            ChangeTopic::AddPartitions { topic, count } => tracing::info!(topic, count, "added partitions"),
            ChangeTopic::Delete { topic } => tracing::info!(topic, "deleted topic"),
        }
        self.pump();
        Ok(())
    }

    pub(super) fn create_topic(&mut self, topic: &NewTopic) -> Result<(), Error> {
        self.change_topic(&ChangeTopic::Create(topic.clone()))
    }

    /// `auto.create.topics.enable`: the active controller creates the topic; another node asks it.
    pub(super) fn auto_create_topic(&mut self, topic: &str) {
        if !self.is_controller() {
            let active = self.active_controller_id();
            if let Some(peer) = self.peers.get(&active) {
                let _ = peer.send(cluster::auto_create_topic(
                    self.config.node_id,
                    self.identity.cluster_id.as_deref(),
                    topic,
                ));
            }
            return;
        }
        let new = NewTopic::new(topic, self.config.num_partitions, self.config.default_replication_factor);
        match self.create_topic(&new) {
            Ok(()) => tracing::info!(topic, "auto-created topic (auto.create.topics.enable)"),
            Err(error) => tracing::warn!(topic, %error, "could not auto-create topic"),
        }
    }

    pub(super) fn ensure_offsets_topic(&mut self) {
        if self.image().topics.contains_key(OFFSETS_TOPIC) {
            return;
        }
        let Some(image) = self.controller.as_ref().and_then(|c| c.active()).map(|active| active.image().clone()) else {
            let active = self.active_controller_id();
            if let Some(peer) = self.peers.get(&active) {
                let _ =
                    peer.send(cluster::ensure_offsets_topic(self.config.node_id, self.identity.cluster_id.as_deref()));
            }
            return;
        };
        if image.topics.contains_key(OFFSETS_TOPIC) {
            return;
        }
        // Kafka: creating it fails until the cluster is as large as its replication factor.
        let cluster = i16::try_from(self.nodes.len().max(1)).unwrap_or(1);
        let registered = i16::try_from(image.brokers.len()).unwrap_or(0);
        let replication_factor = self.config.offsets_topic_replication_factor.min(cluster);
        if registered < replication_factor {
            return;
        }
        let topic = NewTopic::new(OFFSETS_TOPIC, self.config.offsets_topic_num_partitions, replication_factor)
            .config("cleanup.policy", "compact");
        if let Err(error) = self.create_topic(&topic) {
            tracing::warn!(%error, "could not create {OFFSETS_TOPIC}");
        }
    }
}

/// The controller quorum's voters: `controller.quorum.voters` (each a node of
/// `rill.cluster.nodes`, or this node alone), else one controller on the first node.
pub(super) fn quorum_voters(config: &BrokerConfig, nodes: &[ClusterNode]) -> Result<Vec<i32>, String> {
    // The default voter is a node of rill.cluster.nodes (or this one): known by construction.
    let voters = crate::broker_config::voters_or_default(config, nodes)?;
    for voter in &voters {
        let known = if nodes.is_empty() { *voter == config.node_id } else { nodes.iter().any(|n| n.id == *voter) };
        if !known {
            return Err(format!(
                "controller.quorum.voters names node {voter}, which is not {}",
                if nodes.is_empty() {
                    format!("this node (node.id={})", config.node_id)
                } else {
                    "in rill.cluster.nodes".to_owned()
                }
            ));
        }
    }
    Ok(voters)
}

impl Driver {
    /// IncrementalAlterConfigs and AlterConfigs: topic changes go (through this node's broker)
    /// to the active controller, which answers once the change is committed; the rest is
    /// refused at once. `build` makes the response from each resource's outcome, in order.
    pub(super) fn alter_configs(
        &mut self,
        conn: u32,
        asked: Vec<Result<protocol::AlterTopicConfig, protocol::AlterTopicConfigResponse>>,
        build: Box<dyn FnOnce(Vec<protocol::AlterTopicConfigResponse>) -> ResponseKind>,
    ) -> Reply {
        let messages: Vec<Message> =
            asked.iter().filter_map(|asked| asked.as_ref().ok().cloned().map(Message::AlterTopicConfig)).collect();
        let finish: Finish = Box::new(move |answers| {
            let mut answers = answers.into_iter();
            let outcomes = asked
                .into_iter()
                .map(|asked| match asked {
                    Err(refused) => refused,
                    Ok(_) => match answers.next() {
                        Some(Message::AlterTopicConfigResponse(answer)) => answer,
                        other => protocol::AlterTopicConfigResponse {
                            error: ErrorCode::UnknownServerError,
                            message: Some(format!("unexpected answer from the controller: {other:?}")),
                        },
                    },
                })
                .collect();
            build(outcomes)
        });
        if messages.is_empty() {
            return Reply::Now(Box::new(finish(Vec::new())));
        }
        self.gather(conn, messages, finish)
    }
}
