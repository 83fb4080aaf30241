//! The guided scenarios themselves: each one's cluster, script, lesson and chapters (the
//! helpers they are written with live in the parent module).

use rill_core::sim::session::Action;
use rill_core::sim::Fault;

use super::*;

/// Every guided scenario, in teaching order.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        id: "acks1-leader-crash",
        title: "acks=1 loses data when the leader crashes",
        story: "A producer writes with acks=1. At 2 s the leader (broker 1) can no longer send to its followers; \
                it keeps acknowledging writes on its own. At 4 s its process is killed (kill -9: its disk and page \
                cache keep every record) and broker 2 takes over.",
        lesson: "acks=1 means only the leader had the record when the producer heard \"ok\". The writes acknowledged \
                 between 2 s and 4 s are gone although broker 1 never lost its disk: watch the lost-write flag when \
                 broker 2 becomes leader, and broker 1 truncating them when it rejoins.",
        spec: || four_brokers(1, false),
        script: || crash_before_replicating(1),
        duration_ms: 30_000,
        chapters: &[
            (
                2_000,
                "The links from broker 1 to its followers are cut. Watch orders-0: broker 1's log grows, the \
                     followers' rows stop, and the producer still gets acks=1 answers.",
            ),
            (
                4_100,
                "Broker 1's process is killed. The records after the cut exist only on broker 1 — and the \
                     producer was told they are written.",
            ),
            (
                13_500,
                "The controller has fenced broker 1 and elected broker 2 (higher epoch). The lost-write flag \
                      counts the acknowledged records broker 2 never had.",
            ),
            (
                21_000,
                "Broker 1 is back and follows broker 2: it truncates its log to the new leader's — the \
                      records it kept on disk are gone for good.",
            ),
        ],
    },
    Scenario {
        id: "acks-all-keeps-data",
        title: "acks=all with min.insync.replicas=2 keeps it",
        story: "The same faults as the acks=1 scenario, but the producer uses acks=all and the topic \
                min.insync.replicas=2.",
        lesson: "The leader cannot acknowledge while its followers are cut off: those writes wait until \
                 request.timeout.ms (30 s) and are retried to the new leader. Nothing acknowledged is lost.",
        spec: || four_brokers(2, false),
        script: || crash_before_replicating(-1),
        duration_ms: 60_000,
        chapters: &[
            (
                3_000,
                "The followers are cut off. With acks=all the leader cannot answer: look at the producer's \
                     in-flight count and its request-timeout countdown.",
            ),
            (
                34_000,
                "request.timeout.ms ran out: the producer retries the waiting records to the new leader, \
                      broker 2. Nothing acknowledged was lost.",
            ),
        ],
    },
    Scenario {
        id: "not-enough-replicas",
        title: "min.insync.replicas refuses writes: NOT_ENOUGH_REPLICAS",
        story: "acks=all with min.insync.replicas=2. At 3 s brokers 2 and 3 lose power; the ISR shrinks to the \
                leader alone. They come back at 25 s.",
        lesson: "With fewer than min.insync.replicas in sync, the leader rejects acks=all writes with \
                 NOT_ENOUGH_REPLICAS instead of accepting data it could lose. Writes succeed again once the \
                 followers catch up.",
        spec: || {
            let mut spec = four_brokers(2, false);
            spec.broker_configs.insert("replica.lag.time.max.ms".into(), "5000".into());
            spec
        },
        script: || {
            vec![
                (1_000, Action::StartProducer(workload(-1, 200, 150))),
                fault(3_000, Fault::Crash(2)),
                fault(3_000, Fault::Crash(3)),
                fault(25_000, Fault::Restart(2)),
                fault(25_000, Fault::Restart(3)),
            ]
        },
        duration_ms: 35_000,
        chapters: &[
            (3_100, "Brokers 2 and 3 lost power. They are still in the ISR for now, so acks=all writes wait for them."),
            (
                8_500,
                "After replica.lag.time.max.ms (5 s) the leader dropped them: ISR [1], below \
                     min.insync.replicas=2. acks=all writes are refused with NOT_ENOUGH_REPLICAS (see \
                     FailedProduceRequests in Kafka's metrics).",
            ),
            (30_000, "Brokers 2 and 3 restarted at 25 s, caught up and rejoined the ISR: writes succeed again."),
        ],
    },
    Scenario {
        id: "unclean-election",
        title: "Unclean leader election loses committed data",
        story: "unclean.leader.election.enable=true, min.insync.replicas=1. At 3 s the followers stop getting data; \
                after replica.lag.time.max.ms (5 s) the ISR shrinks to the leader, which keeps committing alone. \
                At 15 s it loses power for good (every record is flushed: its disk loses nothing).",
        lesson: "No in-sync replica is left, so the controller elects an out-of-sync one: availability over \
                 consistency. Records committed only on broker 1 are lost, even with acks=all.",
        spec: || {
            let mut spec = four_brokers(1, true);
            spec.broker_configs.insert("replica.lag.time.max.ms".into(), "5000".into());
            spec.broker_configs.insert("log.flush.interval.messages".into(), "1".into());
            spec
        },
        script: || {
            vec![
                (1_000, Action::StartProducer(workload(-1, 100, 300))),
                fault(3_000, Fault::CutLink { from: 1, to: 2 }),
                fault(3_000, Fault::CutLink { from: 1, to: 3 }),
                fault(15_000, Fault::Crash(1)),
            ]
        },
        duration_ms: 30_000,
        chapters: &[
            (8_500, "Brokers 2 and 3 left the ISR: broker 1 now commits alone (min.insync.replicas=1)."),
            (15_100, "Broker 1 lost power for good. What it committed after 3 s exists on no other broker."),
            (
                23_500,
                "No ISR member is left, and unclean.leader.election.enable=true: the controller elected broker 2 \
                      from outside the ISR. The lost-write flag counts the committed records it never had.",
            ),
        ],
    },
    Scenario {
        id: "slow-follower",
        title: "A slow follower leaves and rejoins the ISR",
        story: "Broker 3 stops getting fetch responses from the leader at 2 s (the link 1 → 3 is cut) and gets them \
                again at 47 s.",
        lesson: "The leader removes broker 3 from the ISR only after replica.lag.time.max.ms (30 s) without it \
                 catching up. After the heal it catches up and the leader adds it back.",
        spec: || four_brokers(2, false),
        script: || {
            vec![
                (1_000, Action::StartProducer(workload(-1, 100, 900))),
                fault(2_000, Fault::CutLink { from: 1, to: 3 }),
                fault(47_000, Fault::HealLink { from: 1, to: 3 }),
            ]
        },
        duration_ms: 90_000,
        chapters: &[
            (
                2_000,
                "The link 1 → 3 is cut: broker 3's fetches get no answers. Its row stops growing and its \
                     'behind for' counter runs.",
            ),
            (
                25_000,
                "Broker 3 is still in the ISR after 23 s without catching up: the leader waits \
                      replica.lag.time.max.ms (30 s) before it removes it.",
            ),
            (
                32_500,
                "Broker 3 left the ISR: ISR [1, 2], the partition is under-replicated (see \
                      UnderReplicatedPartitions in Kafka's metrics).",
            ),
            (62_500, "The link healed at 47 s; broker 3 fetched its backlog, caught up and rejoined the ISR."),
        ],
    },
    Scenario {
        id: "slow-disk",
        title: "A slow disk on one follower slows every acks=all write",
        story: "acks=all with min.insync.replicas=2, two records a second. At 5 s broker 3's disk turns slow: \
                each write to its log waits 400 ms (a failing drive). At 35 s the disk is fast again.",
        lesson: "With acks=all the leader answers only when every in-sync replica has the record, so the \
                 producer waits for the slowest one: watch the producer's 'last ack' go from about 10 ms to \
                 over 400 ms. Broker 3 stays in the ISR all along: replica.lag.time.max.ms removes a follower \
                 that stops catching up, and a slow one still catches up on every fetch. acks=1 would not wait for a \
                 follower, but a slow leader disk slows every write (try Slow disk on broker 1). In Kafka the producer's batching absorbs part of the wait; Rill's \
                 producer sends one record per request, so the rate here is low.",
        spec: || four_brokers(2, false),
        script: || {
            vec![
                (1_000, Action::StartProducer(workload(-1, 500, 100))),
                fault(5_000, Fault::SlowDisk { broker: 3, ms: 400 }),
                fault(35_000, Fault::SlowDisk { broker: 3, ms: 0 }),
            ]
        },
        duration_ms: 45_000,
        chapters: &[
            (
                4_500,
                "A healthy cluster: each acks=all write is acknowledged about 10 ms after send() (the \
                     producer's line under Act on the cluster).",
            ),
            (
                8_000,
                "Broker 3's disk is slow since 5 s (its card says so): every acknowledgement now waits for \
                     broker 3's write, over 400 ms, though brokers 1 and 2 are as fast as before.",
            ),
            (
                33_000,
                "28 s later broker 3 is still in the ISR [1, 2, 3]: it is slow, not stuck, and \
                     replica.lag.time.max.ms (30 s) only removes followers that fail to catch up.",
            ),
            (38_000, "The disk is fast again since 35 s: acknowledgements are back to about 10 ms."),
        ],
    },
    Scenario {
        id: "back-to-back-failover",
        title: "Back-to-back failovers and leader epochs",
        story: "acks=1 writes keep coming while the leader changes three times in quick succession: broker 1 \
                loses power at 3 s, broker 2 at 13.5 s, broker 3 at 24.2 s, each restarting later (every record \
                is flushed).",
        lesson: "Every new leader gets a higher leader epoch. Replicas that come back hold divergent tails and \
                 truncate them using the epochs (KIP-101/KIP-279), so all replicas end up identical.",
        spec: || {
            let mut spec = four_brokers(1, false);
            spec.seed = 15;
            spec.latency_max_ms = 30;
            spec.broker_configs.insert("log.flush.interval.messages".into(), "1".into());
            spec
        },
        script: || {
            vec![
                (500, Action::StartProducer(workload(1, 20, 1_500))),
                fault(3_000, Fault::Crash(1)),
                fault(13_000, Fault::Restart(1)),
                fault(13_500, Fault::Crash(2)),
                fault(24_000, Fault::Restart(2)),
                fault(24_200, Fault::Crash(3)),
                fault(26_000, Fault::Restart(3)),
            ]
        },
        duration_ms: 32_000,
        chapters: &[],
    },
    Scenario {
        id: "group-rebalance",
        title: "A consumer group rebalances",
        story: "Six partitions, a producer, and members of group billing joining at 1 s, 6 s and 11 s. One leaves \
                politely at 20 s; another just stops at 30 s.",
        lesson: "Each join or leave starts a new generation and the range assignor splits the partitions again. A \
                 member that stops without leaving keeps its partitions until session.timeout.ms (10 s here).",
        spec: || six_partitions(21),
        script: || {
            vec![
                (500, Action::StartProducer(workload(-1, 50, 2_000))),
                (1_000, member("billing", 10_000)),
                (6_000, member("billing", 10_000)),
                (11_000, member("billing", 10_000)),
                (20_000, Action::RemoveMember { client: 4_001, graceful: true }),
                (30_000, Action::RemoveMember { client: 4_002, graceful: false }),
            ]
        },
        duration_ms: 50_000,
        chapters: &[
            (4_500, "The first member owns all six partitions (generation 1)."),
            (7_500, "A second member joined: a new generation, and the range assignor splits the partitions 3 and 3."),
            (20_500, "Consumer 4001 leaves politely (LeaveGroup): the group rebalances at once."),
            (
                31_000,
                "Consumer 4002 stopped without leaving: it still owns its partitions, so nobody reads them \
                      until its session expires (session.timeout.ms = 10 s). See its countdown in the members table.",
            ),
            (41_000, "Its session expired: consumer 4000 owns all six partitions again (generation 5)."),
        ],
    },
    Scenario {
        id: "kip848-incremental",
        title: "KIP-848: the coordinator assigns, nobody stops",
        story: "Six partitions and a producer; members of group billing with group.protocol=consumer join at 1 s, \
                2.5 s and 20 s. The coordinator computes the assignment (uniform assignor) and each member moves \
                towards it on its own heartbeats (every 5 s).",
        lesson: "No stop-the-world: when a member joins, the others give up only the partitions that move — at \
                 their next heartbeat, keeping the same member epoch until they have — and go on consuming the \
                 rest. The newcomer gets a partition only once its old owner has released it, so no partition is \
                 ever read by two members; it takes a heartbeat or two. Compare 'A consumer group rebalances', \
                 where every member rejoins and the leader reassigns everything each generation.",
        spec: || six_partitions(23),
        script: || {
            vec![
                (500, Action::StartProducer(workload(-1, 50, 2_000))),
                (1_000, consumer_protocol_member("billing")),
                (2_500, consumer_protocol_member("billing")),
                (20_000, consumer_protocol_member("billing")),
            ]
        },
        duration_ms: 40_000,
        chapters: &[
            (2_000, "Consumer 4000 joined alone (member epoch 1) and owns all six partitions."),
            (
                8_000,
                "Consumer 4001 joined at 2.5 s with nothing: 4000 still held everything. At its next heartbeat \
                 (about 6 s) 4000 released orders-3..5 and kept consuming orders-0..2; 4001 got them at its own \
                 next heartbeat.",
            ),
            (
                21_500,
                "Consumer 4002 joined at 20 s; the target is two partitions each. 4000 has just released \
                 orders-2 and keeps consuming orders-0 and orders-1; 4001 releases one at its own heartbeat.",
            ),
            (
                26_000,
                "4002 got orders-2 and orders-5 once both were released: two partitions each, and the first two \
                 members never stopped consuming what they kept.",
            ),
        ],
    },
    Scenario {
        id: "retries-duplicate",
        title: "Retries without idempotence write duplicates",
        story: "A producer with enable.idempotence=false writes with acks=all while the network drops 20 % of \
                messages from 2 s to 15 s. Some produce responses are lost although the leader appended the record.",
        lesson: "The producer cannot tell a lost request from a lost response, so it sends the record again after \
                 request.timeout.ms and the log holds it twice. With enable.idempotence=true (Kafka's default since \
                 3.0) the leader recognises the retry by its producer id and sequence number and answers with the \
                 original offset.",
        spec: lossy_network,
        script: || lossy_writes(false),
        duration_ms: 60_000,
        chapters: &[],
    },
    Scenario {
        id: "isolated-leader",
        title: "A network partition isolates the leader",
        story: "At 5 s broker 1, the leader, is cut off from everyone; it reconnects at 25 s.",
        lesson: "The controller fences broker 1 and elects a new leader with a higher epoch. The old leader still \
                 believes it leads but cannot commit anything (acks=all, min.insync.replicas=2); when it reconnects \
                 it follows and truncates.",
        spec: || four_brokers(2, false),
        script: || {
            let mut producer = workload(-1, 50, 600);
            producer.enable_idempotence = false;
            vec![
                (1_000, Action::StartProducer(producer)),
                fault(5_000, Fault::Isolate(1)),
                fault(25_000, Fault::Reconnect(1)),
            ]
        },
        duration_ms: 40_000,
        chapters: &[
            (
                5_100,
                "Broker 1, the leader, is cut off from everyone. It still believes it leads, but no acks=all \
                     write can reach min.insync.replicas=2.",
            ),
            (
                13_500,
                "The controller fenced broker 1 (no heartbeat within broker.session.timeout.ms) and elected \
                      broker 2 at epoch 1.",
            ),
            (
                28_500,
                "Broker 1 reconnected at 25 s, truncated the records only it had appended, and rejoined the \
                      ISR as a follower.",
            ),
            (
                30_500,
                "auto.leader.rebalance.enable moved leadership back to the preferred replica, broker 1 \
                      (epoch 2).",
            ),
        ],
    },
    Scenario {
        id: "power-loss",
        title: "A power cut on every replica loses acks=all writes",
        story: "acks=all with min.insync.replicas=2 and Kafka's default flushing (the OS page cache, no fsync). At \
                5 s brokers 1, 2 and 3 — every replica — lose power at once; they come back at 8 s.",
        lesson: "Kafka acknowledges acks=all once every in-sync replica has the record in memory, not on disk: it \
                 counts on replicas not failing together. A correlated power cut loses the unflushed tail on all \
                 of them, so acknowledged writes are gone. Compare the next scenario, a process crash.",
        spec: || four_brokers(2, false),
        script: || every_replica_stops(Fault::Crash),
        duration_ms: 20_000,
        chapters: &[
            (5_100, "Every replica lost power: each lost its unflushed tail (LEO 200 → 0 on all three)."),
            (
                8_100,
                "They restart with empty logs; the controller fences each until it catches up, and the \
                     partition goes offline: no live in-sync replica can lead.",
            ),
            (
                14_500,
                "Broker 3 leads again, with an empty log: the acknowledged acks=all writes are gone — see the \
                      lost-write flag.",
            ),
        ],
    },
    Scenario {
        id: "process-crash",
        title: "kill -9 on every replica loses nothing",
        story: "The same cluster and writes, but at 5 s the broker processes of 1, 2 and 3 are killed (kill -9) \
                instead of losing power; they restart at 8 s.",
        lesson: "A process crash leaves the OS page cache intact: on restart each broker recovers its log with \
                 every record it had written, and no acknowledged write is lost. log.flush.interval.messages=1 \
                 would protect against the power cut too, at the cost of an fsync per record.",
        spec: || four_brokers(2, false),
        script: || every_replica_stops(Fault::Kill),
        duration_ms: 20_000,
        chapters: &[],
    },
    Scenario {
        id: "compaction",
        title: "Compaction keeps the last value of each key; a tombstone deletes one",
        story: "cleanup.policy=compact, segment.bytes=1024: a producer writes 20 records/s over 16 keys (k0–k15). \
                At 2 s one record is written for key customer-7 and at 3 s one for customer-42; at 12 s a \
                tombstone for customer-42 (same key, no value). The cleaner runs every second \
                (log.retention.check.interval.ms=1000); delete.retention.ms=5000.",
        lesson: "Compaction never touches the active segment; older segments keep only the newest record per key, \
                 at its original offset: customer-7 stays where it was written, with a gap of cleaned offsets after \
                 it. The tombstone removes customer-42, and after delete.retention.ms the tombstone itself is \
                 cleaned away: a consumer reading from the start sees customer-7, the latest value of k0–k15 and \
                 nothing of customer-42.",
        spec: || {
            let mut spec = four_brokers(2, false);
            let topic = &mut spec.topics[0];
            for (key, value) in [
                ("cleanup.policy", "compact"),
                ("segment.bytes", "1024"),
                ("min.cleanable.dirty.ratio", "0.01"),
                ("delete.retention.ms", "5000"),
            ] {
                topic.configs.insert(key.to_owned(), value.to_owned());
            }
            spec.broker_configs.insert("log.retention.check.interval.ms".into(), "1000".into());
            spec
        },
        script: || {
            let customer = |key: &str, value: Option<&str>| {
                Action::Produce(ProduceSpec {
                    topic: "orders".to_owned(),
                    key: Some(key.to_owned()),
                    value: value.map(str::to_owned),
                    acks: Some(AcksSpec::Number(-1)),
                    partition: None,
                })
            };
            vec![
                (1_000, Action::StartProducer(workload(-1, 50, 800))),
                (2_000, customer("customer-7", Some("address: 7 Elm St"))),
                (3_000, customer("customer-42", Some("address: 1 Main St"))),
                (12_000, customer("customer-42", None)),
            ]
        },
        duration_ms: 40_000,
        chapters: &[],
    },
    Scenario {
        id: "retention",
        title: "Retention deletes segments a stopped consumer had not read",
        story: "cleanup.policy=delete, retention.ms=5000, segment.bytes=1024, checked every second. A producer writes \
                20 records/s. Consumer 4000 of group billing reads from 1 s, auto-commits every 5 s and stops without \
                leaving at 12 s; its last commit stays. A new member (4001) joins the group at 30 s.",
        lesson: "Retention deletes whole segments by age, whether or not a consumer has read them. The new member \
                 starts from the group's committed offset, which no longer exists: OFFSET_OUT_OF_RANGE, and \
                 auto.offset.reset=earliest moves it to the log start offset — the records in between were never \
                 read by the group.",
        spec: || {
            let mut spec = four_brokers(2, false);
            let topic = &mut spec.topics[0];
            for (key, value) in [("cleanup.policy", "delete"), ("retention.ms", "5000"), ("segment.bytes", "1024")] {
                topic.configs.insert(key.to_owned(), value.to_owned());
            }
            spec.broker_configs.insert("log.retention.check.interval.ms".into(), "1000".into());
            spec
        },
        script: || {
            vec![
                (500, Action::StartProducer(workload(-1, 50, 1_000))),
                (1_000, member("billing", 10_000)),
                (12_000, Action::RemoveMember { client: 4_000, graceful: false }),
                (30_000, member("billing", 10_000)),
            ]
        },
        duration_ms: 40_000,
        chapters: &[],
    },
    Scenario {
        id: "idempotent-retries",
        title: "The idempotent producer's sequence numbers stop duplicates",
        story: "The same lossy network as the duplicates scenario (20 % of messages dropped from 2 s to 15 s), but \
                the producer has enable.idempotence=true (Kafka's default): each batch carries its producer id, \
                epoch and a sequence number per partition.",
        lesson: "A retried batch whose first copy was appended arrives with a sequence number the leader has \
                 already seen: the leader answers with the original offset instead of appending it again. Retries \
                 still happen (see the attempts), yet no record is committed twice.",
        spec: lossy_network,
        script: || lossy_writes(true),
        duration_ms: 60_000,
        chapters: &[],
    },
    Scenario {
        id: "controller-failover",
        title: "The active controller dies: the KRaft quorum elects another",
        story: "Three nodes, each a broker and a controller (KRaft's combined mode: controller.quorum.voters = \
                1, 2, 3); orders-0 lives on all three, led by broker 1. A producer writes with acks=all \
                (min.insync.replicas=2). At 5 s node 2 — the active controller, and a follower of orders-0 — is \
                killed; it comes back at 25 s.",
        lesson: "The metadata lives in a log replicated by the controller quorum: when the active controller dies, \
                 the two others notice within controller.quorum.fetch.timeout.ms (2 s), one asks for pre-votes, then \
                 votes, wins the next quorum epoch and takes up the committed metadata — nothing is lost or \
                 re-elected. Writes still wait: broker 2 was in the ISR, and only the new controller can remove it, \
                 after broker.session.timeout.ms (9 s, counted from the failover). With a single controller on \
                 node 2 they would wait until it came back.",
        spec: quorum_of_three,
        script: || {
            vec![
                (1_000, Action::StartProducer(workload(-1, 50, 600))),
                fault(5_000, Fault::Kill(2)),
                fault(25_000, Fault::Restart(2)),
            ]
        },
        duration_ms: 35_000,
        chapters: &[
            (
                5_000,
                "Node 2 is killed: the active controller, and a follower of orders-0. In the controller quorum \
                 panel, controllers 1 and 3 still follow controller 2: they learn it is gone only when their \
                 fetches of the metadata log go unanswered for controller.quorum.fetch.timeout.ms (2 s).",
            ),
            (
                8_500,
                "Controller 3 asked for pre-votes first; controller 1, which had heard from controller 2 more \
                 recently, refused (KIP-996), so 3 went back to following 2. Moments later controller 1 asked, \
                 3 granted, and 1 stood in epoch 2 and won it. It is the active controller now, with the same \
                 committed metadata: no partition was re-elected. Yet acks=all writes still wait — broker 2 is \
                 in orders-0's ISR.",
            ),
            (
                17_500,
                "broker.session.timeout.ms (9 s) after it took over, the new controller fenced broker 2 and took it \
                 out of the ISR: orders-0's high watermark moves again and the producer's writes are acknowledged. \
                 Nothing acknowledged was lost.",
            ),
        ],
    },
    Scenario {
        id: "controller-separate",
        title: "Separate controllers: the active one dies and no write waits",
        story: "Three brokers (1, 2, 3) and three controller-only nodes (4, 5, 6: process.roles=controller, \
                controller.quorum.voters = 4, 5, 6); orders-0 lives on the brokers, led by broker 1, and takes \
                acks=all writes (min.insync.replicas=2). At 5 s node 5 — the active controller — is killed; it \
                comes back at 25 s.",
        lesson: "The same failover as in the combined cluster, without its stall: the dead node hosted no \
                 replica, so no ISR has to shrink and every acks=all write goes on while controllers 4 and 6 \
                 elect a new leader of the metadata log. Kafka recommends separate controllers in production \
                 for this reason: a broker's trouble is not the quorum's, and the quorum's is not the brokers'.",
        spec: separate_controllers,
        script: || {
            vec![
                (1_000, Action::StartProducer(workload(-1, 50, 600))),
                fault(5_000, Fault::Kill(5)),
                fault(25_000, Fault::Restart(5)),
            ]
        },
        duration_ms: 35_000,
        chapters: &[
            (
                5_000,
                "Node 5, the active controller, is killed. It hosts no replica: orders-0's ISR is still [1, 2, 3] \
                 and the producer's writes keep being acknowledged.",
            ),
            (
                9_000,
                "Controllers 4 and 6 stopped hearing from 5 and one of them won the next quorum epoch (the \
                 quorum panel): the active controller changed, and no write waited for it.",
            ),
        ],
    },
    Scenario {
        id: "controller-majority-lost",
        title: "Two of three controllers die: the metadata freezes, the leaders go on",
        story: "Five brokers; nodes 1, 2 and 3 are also the controllers. orders-0 lives on brokers 4 and 5 \
                (min.insync.replicas=1), led by broker 4, and takes acks=all writes. At 5 s nodes 1 and 2 are \
                killed. At 12 s broker 5 is paused. At 22 s node 1 comes back; broker 5 resumes at 38 s.",
        lesson: "A quorum needs a majority: one controller of three cannot elect itself, so nothing in the \
                 metadata can change — no broker is fenced, no ISR shrinks. The partition leaders do not need \
                 the controller to take writes, so orders-0 goes on until broker 5 stops: then its acks=all \
                 writes wait for a follower that is gone, and only a controller could take broker 5 out of the \
                 ISR. When node 1 returns there is a majority again: a controller is elected, broker 5 is fenced \
                 after broker.session.timeout.ms and the writes resume.",
        spec: || {
            let mut orders = topic("orders", 1, 2, 1);
            orders.assignment = Some(vec![vec![4, 5]]);
            ClusterSpec {
                seed: 12,
                brokers: 5,
                controllers: vec![1, 2, 3],
                topics: vec![orders],
                trace_limit: Some(TRACE_LIMIT),
                ..ClusterSpec::default()
            }
        },
        script: || {
            vec![
                (1_000, Action::StartProducer(workload(-1, 50, 800))),
                fault(5_000, Fault::Kill(1)),
                fault(5_000, Fault::Kill(2)),
                fault(12_000, Fault::Pause(5)),
                fault(22_000, Fault::Restart(1)),
                fault(38_000, Fault::Resume(5)),
            ]
        },
        duration_ms: 45_000,
        chapters: &[
            (
                5_000,
                "Nodes 1 and 2 are killed: two of the three controllers, one of them (2) the active one. \
                 Controller 3 is alone — watch the quorum table: it asks for pre-votes again and again and never \
                 gets a majority.",
            ),
            (
                11_500,
                "No controller for 6.5 s: no broker fenced, no election, no ISR change. Yet orders-0 (leader 4, \
                 ISR [4, 5]) keeps acknowledging acks=all writes: partition leaders do not need the controller.",
            ),
            (
                18_000,
                "Broker 5 was paused at 12 s: orders-0's acks=all writes wait for it, and only a controller could \
                 take it out of the ISR. Nothing moves.",
            ),
            (
                33_000,
                "Node 1 came back at 22 s: two of three, a majority. Controller 3 won epoch 2, and \
                 broker.session.timeout.ms (9 s) later fenced broker 5 (and the dead broker 2): ISR [4], and the \
                 writes resume.",
            ),
        ],
    },
    Scenario {
        id: "controller-isolated",
        title: "A cut-off controller cannot commit; the majority elects another",
        story: "Three nodes, each a broker and a controller; orders-0 on all three, led by broker 1, takes acks=all \
                writes (min.insync.replicas=2). At 5 s node 2 — the active controller — is cut off from every \
                other node; it is reconnected at 20 s.",
        lesson: "Cut off, controller 2 still believes it leads, but nothing it writes can reach a majority: it \
                 cannot commit. Its followers stop hearing from it after controller.quorum.fetch.timeout.ms and \
                 elect controller 1 or 3 in a new epoch; controller 2 resigns on its own after 1.5 fetch timeouts \
                 without a majority fetching (check-quorum). Back on the network it follows the new leader.",
        spec: quorum_of_three,
        script: || {
            vec![
                (1_000, Action::StartProducer(workload(-1, 50, 600))),
                fault(5_000, Fault::Isolate(2)),
                fault(20_000, Fault::Reconnect(2)),
            ]
        },
        duration_ms: 30_000,
        chapters: &[
            (
                5_000,
                "Node 2 — the active controller, and a follower of orders-0 — is cut off. It still believes it \
                 leads quorum epoch 1, but no majority fetches its metadata log any more: it can commit nothing.",
            ),
            (
                8_500,
                "Controllers 1 and 3 stopped hearing from controller 2: at about 6.6 s controller 1 won their \
                 pre-vote and then epoch 2, and is active now. At about 8.1 s controller 2 resigned on its own: \
                 1.5 × controller.quorum.fetch.timeout.ms without a majority fetching (check-quorum).",
            ),
            (
                18_000,
                "9 s (broker.session.timeout.ms) after it took over, controller 1 fenced broker 2 and took it out \
                 of the ISR: orders-0's acks=all writes resume.",
            ),
            (
                21_000,
                "Reconnected at 20 s, controller 2 hears of epoch 2 and follows controller 1: its old epoch is over, \
                 and nothing it did alone was ever committed.",
            ),
        ],
    },
    Scenario {
        id: "before-kip-101",
        title: "Before KIP-101: a high watermark loses a write",
        story: "Kafka before 0.11 replicated without leader epochs: a replica that became a follower cut its log \
                back to its own high watermark, which lags the leader's by a round trip. acks=all, \
                min.insync.replicas=2, a slow network (40-120 ms). At 6 s the leader (broker 1) is killed and \
                the link from broker 2 to broker 3 is cut; at 18 s broker 2 is killed too; both come back at 31 s.",
        lesson: "Broker 3 had every acknowledged record, but it trusted only its high watermark: following broker 2 \
                 it cut off the last acknowledged write, then led without it. The checker flags it: an acks=all \
                 write with min.insync.replicas=2 is gone. Press \"leader epochs (KIP-101)\" in Side by side: \
                 the same faults lose nothing, because a follower asks the leader where their logs diverge \
                 (OffsetsForLeaderEpoch, and since KIP-320 the fetch itself) instead of guessing from its high \
                 watermark.",
        spec: || before_kip_101_spec(true),
        script: || two_leaders_die(KIP_101_KILL_MS),
        duration_ms: 45_000,
        chapters: &[
            (
                6_100,
                "Broker 1 is killed just after acknowledging offset 12. Brokers 2 and 3 have offset 12, but \
                     broker 3 heard of the high watermark that covers it one round trip late: its high watermark \
                     is still 12 (offsets below 12 are committed, as far as it knows).",
            ),
            (
                13_400,
                "The controller elected broker 2. Becoming its follower, broker 3 cut its log back to its high \
                     watermark: offset 12 is gone from broker 3 (the red line in the event log). It cannot fetch \
                     it again: broker 2's answers do not reach it.",
            ),
            (
                25_400,
                "Broker 2 was killed too. Broker 3, still in the ISR, now leads — without offset 12. The \
                     lost-write flag counts an acks=all write that min.insync.replicas=2 promised to keep.",
            ),
            (
                37_000,
                "Brokers 1 and 2 came back and follow broker 3, so they drop their offset 12 too, and a new \
                     record takes that offset: the committed data differs from what was acknowledged (the \
                     checker's red flags).",
            ),
        ],
    },
    Scenario {
        id: "rack-failure",
        title: "Rack-aware placement survives losing a rack",
        story: "Six brokers in three racks (broker.rack a, a, b, b, c, c); orders has 6 partitions with 3 \
                replicas and min.insync.replicas=2, written with acks=all. At 5 s rack a (brokers 1 and 2) loses \
                power; it comes back at 30 s.",
        lesson: "With racks, Kafka places each partition's replicas on different racks, so losing a whole rack \
                 takes one replica of each: every ISR keeps two members and acks=all writes go on. Press \
                 \"no broker.rack\" in Side by side: placed without racks, some partitions had two replicas in \
                 rack a, their ISR falls to one, and their leaders refuse writes with NOT_ENOUGH_REPLICAS (count the \
                 refusals on each side) until rack a is back.",
        spec: rack_spec,
        script: || {
            vec![
                (1_000, Action::StartProducer(workload(-1, 20, 1_500))),
                fault(5_000, Fault::Crash(1)),
                fault(5_000, Fault::Crash(2)),
                fault(30_000, Fault::Restart(1)),
                fault(30_000, Fault::Restart(2)),
            ]
        },
        duration_ms: 40_000,
        chapters: &[
            (
                1_000,
                "Look at the partitions: each one's replicas sit on three different racks (the broker cards \
                     name each broker's rack).",
            ),
            (
                10_100,
                "Rack a went dark at 5 s. The partitions led from racks b and c dropped their rack-a follower \
                     after replica.lag.time.max.ms (5 s): an ISR of two is still min.insync.replicas, so their \
                     acks=all writes go on.",
            ),
            (
                13_100,
                "The controller fenced brokers 1 and 2 (broker.session.timeout.ms) and gave the partitions they \
                     led to their replicas in racks b and c. Every partition takes acks=all writes again, nothing \
                     acknowledged was lost.",
            ),
        ],
    },
];
