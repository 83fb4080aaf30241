//! Each Kafka request to the state machines: translated through `crate::apis`, answered at
//! once or gathered from the core's answers.

use super::*;

impl Driver {
    /// Handles one decoded request from connection `conn`.
    pub fn handle(&mut self, conn: u32, version: i16, request: RequestKind) -> Reply {
        let now = |response: ResponseKind| Reply::Now(Box::new(response));
        if self.broker.is_none() {
            return self.handle_on_controller(conn, request);
        }
        let reply = match request {
            RequestKind::Metadata(request) => now(ResponseKind::Metadata(self.metadata(&request, version))),
            RequestKind::CreateTopics(request) => {
                let news = admin::new_topics(&request, &self.config);
                let asked: Vec<Result<Option<ChangeTopic>, Error>> = news
                    .iter()
                    .map(|new| {
                        if self.image().topics.contains_key(new.name.as_str()) {
                            Err(Error::new(ErrorCode::TopicAlreadyExists, format!("topic {} already exists", new.name)))
                        } else {
                            Ok((!request.validate_only).then(|| ChangeTopic::Create(new.clone())))
                        }
                    })
                    .collect();
                let names: Vec<_> =
                    request.topics.iter().zip(&news).map(|(c, new)| (c.name.clone(), new.name.clone())).collect();
                let build: BuildAdminReply = Box::new(move |image, outcomes| {
                    let results = names
                        .iter()
                        .zip(outcomes)
                        .map(|((wire, name), outcome)| {
                            admin::create_topic_result(wire, outcome.map(|()| image.topics.get(name.as_str())), version)
                        })
                        .collect();
                    ResponseKind::CreateTopics(admin::create_topics_response(results))
                });
                self.change_topics(conn, asked, build)
            }
            RequestKind::CreatePartitions(request) => {
                let asked: Vec<Result<Option<ChangeTopic>, Error>> = request
                    .topics
                    .iter()
                    .map(|topic| {
                        if topic.assignments.is_some() {
                            return Err(Error::new(
                                ErrorCode::InvalidReplicaAssignment,
                                "Rill places new partitions itself: manual assignments are not supported yet",
                            ));
                        }
                        if request.validate_only {
                            return self.image().topics.get(topic.name.as_str()).map(|_| None).ok_or_else(|| {
                                Error::new(
                                    ErrorCode::UnknownTopicOrPartition,
                                    format!("topic '{}' does not exist", topic.name.as_str()),
                                )
                            });
                        }
                        Ok(Some(ChangeTopic::AddPartitions { topic: topic.name.to_string(), count: topic.count }))
                    })
                    .collect();
                let names: Vec<_> = request.topics.iter().map(|topic| topic.name.clone()).collect();
                let build: BuildAdminReply = Box::new(move |_, outcomes| {
                    ResponseKind::CreatePartitions(admin::create_partitions_response(&names, outcomes))
                });
                self.change_topics(conn, asked, build)
            }
            RequestKind::DeleteTopics(request) => {
                let asked = request
                    .topic_names
                    .iter()
                    .map(|topic| Ok(Some(ChangeTopic::Delete { topic: topic.0.to_string() })))
                    .collect();
                let names = request.topic_names.clone();
                let build: BuildAdminReply = Box::new(move |_, outcomes| {
                    let mut response = DeleteTopicsResponse::default();
                    for (topic, outcome) in names.iter().zip(outcomes) {
                        response.responses.push(admin::delete_topic_result(topic, outcome, version));
                    }
                    ResponseKind::DeleteTopics(response)
                });
                self.change_topics(conn, asked, build)
            }
            RequestKind::Produce(request) => self.produce(conn, request),
            RequestKind::Fetch(request) => {
                let names: VecMap<u128, String> =
                    self.image().topics.iter().map(|(name, t)| (t.topic_id, name.to_string())).collect();
                let (core_fetch, layout) = fetch::plan(&request, version, &names);
                if core_fetch.partitions.is_empty() {
                    return now(ResponseKind::Fetch(fetch::response(&layout, None)));
                }
                let metrics = self.metrics.clone();
                let finish: Finish = Box::new(move |answers| {
                    let answer = answers.into_iter().next().and_then(|answer| match answer {
                        Message::FetchResponse(answer) => Some(answer),
                        _ => None,
                    });
                    let response = fetch::response(&layout, answer);
                    metrics.bytes_out.fetch_add(fetch::response_bytes(&response), Ordering::Relaxed);
                    ResponseKind::Fetch(response)
                });
                self.gather(conn, vec![Message::Fetch(core_fetch)], finish)
            }
            RequestKind::ListOffsets(request) => now(ResponseKind::ListOffsets(self.list_offsets(&request, version))),
            RequestKind::FindCoordinator(request) => self.find_coordinator(conn, &request, version),
            RequestKind::InitProducerId(request) => {
                if request.transactional_id.is_some() {
                    return now(ResponseKind::InitProducerId(admin::transactions_refused()));
                }
                let finish: Finish = Box::new(|answers| {
                    ResponseKind::InitProducerId(admin::init_producer_id_response(answers.into_iter().next()))
                });
                self.gather(conn, vec![Message::InitProducerId(protocol::InitProducerId {})], finish)
            }
            RequestKind::JoinGroup(request) => self.gather_group(
                conn,
                groups::join(&request),
                Box::new(move |answers| {
                    ResponseKind::JoinGroup(groups::join_response(answers.into_iter().next(), version))
                }),
            ),
            RequestKind::SyncGroup(request) => self.gather_group(
                conn,
                groups::sync(&request),
                Box::new(move |answers| {
                    ResponseKind::SyncGroup(groups::sync_response(answers.into_iter().next(), version))
                }),
            ),
            RequestKind::Heartbeat(request) => self.gather_group(
                conn,
                groups::heartbeat(&request),
                Box::new(|answers| ResponseKind::Heartbeat(groups::heartbeat_response(answers.into_iter().next()))),
            ),
            RequestKind::LeaveGroup(request) => {
                let requests = groups::leave(&request, version);
                if requests.is_empty() {
                    return now(ResponseKind::LeaveGroup(LeaveGroupResponse::default()));
                }
                let messages = requests.iter().cloned().map(Message::Group).collect();
                let finish: Finish = Box::new(move |answers| {
                    let answers = answers.into_iter().map(Some).collect();
                    ResponseKind::LeaveGroup(groups::leave_response(&requests, answers, version))
                });
                self.gather(conn, messages, finish)
            }
            RequestKind::DeleteGroups(request) => {
                let requests = groups::delete_groups(&request);
                if requests.is_empty() {
                    return now(ResponseKind::DeleteGroups(groups::delete_groups_response(&[], Vec::new())));
                }
                let messages = requests.iter().cloned().map(Message::Group).collect();
                let finish: Finish = Box::new(move |answers| {
                    let answers = answers.into_iter().map(Some).collect();
                    ResponseKind::DeleteGroups(groups::delete_groups_response(&requests, answers))
                });
                self.gather(conn, messages, finish)
            }
            RequestKind::OffsetCommit(request) => {
                let group = groups::offset_commit(&request);
                self.gather_group(
                    conn,
                    group,
                    Box::new(move |answers| {
                        ResponseKind::OffsetCommit(groups::offset_commit_response(&request, answers.into_iter().next()))
                    }),
                )
            }
            RequestKind::OffsetFetch(request) => {
                let Some(group) = groups::offset_fetch(&request, version) else {
                    return now(ResponseKind::OffsetFetch(OffsetFetchResponse::default()));
                };
                let group_id = group.group_id().to_owned();
                self.gather_group(
                    conn,
                    group,
                    Box::new(move |answers| {
                        ResponseKind::OffsetFetch(groups::offset_fetch_response(
                            &group_id,
                            answers.into_iter().next(),
                            version,
                        ))
                    }),
                )
            }
            RequestKind::ListGroups(request) => {
                let mut listed: Vec<(String, String, &str)> = Vec::new();
                for (_, coordinator) in self.broker().coordinators() {
                    let classic =
                        coordinator.list_groups().into_iter().map(|(id, state)| (id, format!("{state:?}"), "classic"));
                    let consumer = coordinator
                        .list_consumer_groups()
                        .into_iter()
                        .map(|(id, state)| (id, state.name().to_owned(), "consumer"));
                    listed.extend(classic.chain(consumer));
                }
                now(ResponseKind::ListGroups(groups::list_groups_response(&request, listed, version)))
            }
            RequestKind::DescribeGroups(request) => {
                now(ResponseKind::DescribeGroups(groups::describe_groups_response(
                    &request.groups,
                    |group_id| self.broker().coordinators().find_map(|(_, c)| c.describe(group_id)),
                    |group_id| self.broker().coordinators().any(|(_, c)| c.consumer_group(group_id).is_some()),
                )))
            }
            RequestKind::DescribeProducers(request) => {
                now(ResponseKind::DescribeProducers(producers::describe_producers_response(&request, |tp| {
                    let leads = self.broker().replica(tp)?.is_leader;
                    Some((leads, self.broker().producers(tp)?))
                })))
            }
            RequestKind::OffsetForLeaderEpoch(request) => now(ResponseKind::OffsetForLeaderEpoch(
                epochs::offset_for_leader_epoch_response(&request, |tp, epoch| {
                    Some((self.broker().replica(tp)?, self.broker().epoch_end_offset(tp, epoch)))
                }),
            )),
            RequestKind::OffsetDelete(request) => self.gather_group(
                conn,
                offset_delete::offset_delete(&request),
                Box::new(|answers| {
                    ResponseKind::OffsetDelete(offset_delete::offset_delete_response(answers.into_iter().next()))
                }),
            ),
            RequestKind::IncrementalAlterConfigs(request) => {
                let asked = configs::alter_requests(&request);
                let build = Box::new(move |outcomes| {
                    ResponseKind::IncrementalAlterConfigs(configs::incremental_alter_configs_response(
                        &request, outcomes,
                    ))
                });
                self.alter_configs(conn, asked, build)
            }
            RequestKind::AlterConfigs(request) => {
                let asked = configs::legacy_alter_requests(&request);
                let build = Box::new(move |outcomes| {
                    ResponseKind::AlterConfigs(configs::alter_configs_response(&request, outcomes))
                });
                self.alter_configs(conn, asked, build)
            }
            RequestKind::ElectLeaders(request) => match elections::elect_leaders_request(&request, version) {
                Err(error) => now(ResponseKind::ElectLeaders(elections::refused(error, version))),
                Ok(core) => {
                    let finish: Finish = Box::new(move |answers| {
                        let answer = match answers.into_iter().next() {
                            Some(Message::ElectLeadersResponse(answer)) => answer,
                            _ => protocol::ElectLeadersResponse {
                                error: ErrorCode::UnknownServerError,
                                results: Vec::new(),
                            },
                        };
                        ResponseKind::ElectLeaders(elections::elect_leaders_response(&answer, version))
                    });
                    self.gather(conn, vec![Message::ElectLeaders(core)], finish)
                }
            },
            RequestKind::AlterPartitionReassignments(request) => {
                let core = reassignments::alter_request(&request, version);
                let finish: Finish = Box::new(move |answers| {
                    let answer = answers.into_iter().next().and_then(|answer| match answer {
                        Message::AlterReassignmentsResponse(answer) => Some(answer),
                        _ => None,
                    });
                    ResponseKind::AlterPartitionReassignments(reassignments::answered_or_not(answer, version))
                });
                self.gather(conn, vec![Message::AlterReassignments(core)], finish)
            }
            RequestKind::ListPartitionReassignments(request) => {
                now(ResponseKind::ListPartitionReassignments(reassignments::list_response(&request, self.image())))
            }
            RequestKind::DescribeCluster(request) => {
                now(ResponseKind::DescribeCluster(self.describe_cluster(&request)))
            }
            RequestKind::DescribeLogDirs(request) => {
                now(ResponseKind::DescribeLogDirs(self.describe_log_dirs(&request)))
            }
            RequestKind::DescribeTopicPartitions(request) => now(ResponseKind::DescribeTopicPartitions(
                topic_partitions::describe_topic_partitions_response(&request, self.image()),
            )),
            RequestKind::DescribeQuorum(_) => self.describe_quorum(conn),
            request @ (RequestKind::AddRaftVoter(_) | RequestKind::RemoveRaftVoter(_)) => {
                return self.change_voters(conn, &request);
            }
            RequestKind::ConsumerGroupHeartbeat(request) => {
                let new_member_id = || crate::meta_properties::random_cluster_id().unwrap_or_default();
                match consumer_groups::heartbeat(&request, self.image(), self.client.clone(), new_member_id) {
                    Ok(core) => {
                        let ids = consumer_groups::topic_ids(self.image());
                        self.gather_group(
                            conn,
                            core,
                            Box::new(move |answers| {
                                ResponseKind::ConsumerGroupHeartbeat(consumer_groups::heartbeat_response(
                                    answers.into_iter().next(),
                                    &ids,
                                ))
                            }),
                        )
                    }
                    Err(response) => now(ResponseKind::ConsumerGroupHeartbeat(*response)),
                }
            }
            RequestKind::ConsumerGroupDescribe(request) => {
                let ids = consumer_groups::topic_ids(self.image());
                let find = |group_id: &str| match self.broker().group_coordinator(group_id) {
                    None => consumer_groups::Found::NotCoordinator,
                    Some(c) => match c.consumer_group(group_id) {
                        Some(group) => consumer_groups::Found::Consumer(group),
                        None if c.describe(group_id).is_some() => consumer_groups::Found::Classic,
                        None => consumer_groups::Found::Missing,
                    },
                };
                now(ResponseKind::ConsumerGroupDescribe(consumer_groups::describe_response(&request, find, &ids)))
            }
            RequestKind::DeleteRecords(request) => {
                let response = delete_records::delete_records_response(&request, |tp, offset| {
                    self.broker_mut().handle_delete_records(tp, offset)
                });
                now(ResponseKind::DeleteRecords(response))
            }
            RequestKind::DescribeConfigs(request) => now(ResponseKind::DescribeConfigs(
                admin::describe_configs_response(&request, self.image(), &self.config, &self.static_configs),
            )),
            other => {
                tracing::warn!(?other, "request not handled");
                return Reply::Nothing;
            }
        };
        self.pump();
        reply
    }

    /// A controller-only node's listener: the controller APIs (`server::CONTROLLER_APIS`,
    /// the only ones it advertises and admits).
    fn handle_on_controller(&mut self, conn: u32, request: RequestKind) -> Reply {
        match request {
            RequestKind::DescribeQuorum(_) => self.describe_quorum(conn),
            RequestKind::DescribeCluster(request) => {
                Reply::Now(Box::new(ResponseKind::DescribeCluster(self.describe_cluster(&request))))
            }
            request @ (RequestKind::AddRaftVoter(_) | RequestKind::RemoveRaftVoter(_)) => {
                self.change_voters(conn, &request)
            }
            other => unreachable!("the server admits only controller APIs on a controller-only node: {other:?}"),
        }
    }

    /// AddRaftVoter / RemoveRaftVoter (KIP-853). A static quorum refuses them, in Kafka's
    /// words, on any node (every node has the same voters). A dynamic one (`rill format`) hands
    /// them to the active controller — through this node's broker, which forwards them as
    /// Kafka's brokers do, or on a controller-only node to its own controller — which answers
    /// once the `VotersRecord` is committed.
    fn change_voters(&mut self, conn: u32, request: &RequestKind) -> Reply {
        let cluster_id = self.cluster_id().to_owned();
        let (add, id, refusal, refused) = match request {
            RequestKind::AddRaftVoter(add) => (
                true,
                add.voter_id,
                quorum::add_voter_refusal(add, &cluster_id),
                ResponseKind::AddRaftVoter(quorum::add_raft_voter_response(add, &cluster_id)),
            ),
            RequestKind::RemoveRaftVoter(remove) => (
                false,
                remove.voter_id,
                quorum::remove_voter_refusal(remove, &cluster_id),
                ResponseKind::RemoveRaftVoter(quorum::remove_raft_voter_response(remove, &cluster_id)),
            ),
            other => unreachable!("only voter changes come here: {other:?}"),
        };
        if refusal.is_some() || !self.dynamic {
            return Reply::Now(Box::new(refused));
        }
        let finish: Finish = Box::new(move |answers| {
            let (error, message) = match answers.into_iter().next() {
                Some(Message::ChangeVotersResponse(answer)) => (answer.error, answer.message.unwrap_or_default()),
                _ => (ErrorCode::RequestTimedOut, "no controller answered".to_owned()),
            };
            if add {
                ResponseKind::AddRaftVoter(quorum::add_raft_voter_error(error, &message))
            } else {
                ResponseKind::RemoveRaftVoter(quorum::remove_raft_voter_error(error, &message))
            }
        });
        let message = Message::ChangeVoters(protocol::ChangeVoters { add, id });
        let reply = if self.broker.is_some() {
            self.gather(conn, vec![message], finish)
        } else {
            let Some(started) = self.gatherer.start(1, finish) else {
                tracing::warn!("too many requests waiting; closing the connection");
                return Reply::Nothing;
            };
            let now = self.now_ms();
            let controller = self.controller.as_mut().expect("a controller-only node runs a controller");
            controller.handle_message(now, NodeId::Client(conn), started.correlation_ids[0], message);
            Reply::Later(started.response)
        };
        self.pump();
        reply
    }

    /// DescribeQuorum: the active controller's view, through this node's broker (which asks
    /// the controllers in turn), or on a controller-only node from its own controller
    /// (`NOT_LEADER_OR_FOLLOWER` unless it leads, as Kafka's controllers answer).
    fn describe_quorum(&mut self, conn: u32) -> Reply {
        // Wall-clock milliseconds for the core's (since start), as Kafka reports them.
        let offset = i64::try_from(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis()),
        )
        .unwrap_or(0)
            - i64::try_from(self.now_ms()).unwrap_or(0);
        let endpoints: Vec<(i32, String, u16)> =
            self.nodes.iter().map(|n| (n.id, n.host.clone(), n.kafka_port)).collect();
        let (host, port) = (self.advertised.0.clone(), u16::try_from(self.advertised.1).unwrap_or(0));
        let finish: Finish = Box::new(move |answers| {
            let answer = answers.into_iter().next().and_then(|answer| match answer {
                Message::DescribeQuorumResponse(answer) => Some(answer),
                _ => None,
            });
            let endpoint = |id: i32| {
                endpoints
                    .iter()
                    .find(|(node, _, _)| *node == id)
                    .map_or_else(|| (host.clone(), port), |(_, host, port)| (host.clone(), *port))
            };
            ResponseKind::DescribeQuorum(quorum::describe_quorum_response(answer, |ms| ms + offset, endpoint))
        });
        if self.broker.is_none() {
            let now = self.now_ms();
            let answer = self.controller.as_ref().and_then(|controller| controller.describe(now));
            return Reply::Now(Box::new(finish(answer.map(Message::DescribeQuorumResponse).into_iter().collect())));
        }
        self.gather(conn, vec![Message::DescribeQuorum(protocol::DescribeQuorum {})], finish)
    }
}
