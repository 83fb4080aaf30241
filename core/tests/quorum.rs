//! The metadata quorum (KRaft's rules): hand-made situations, then random runs checked for
//! Raft's safety properties and for liveness after heal.

use std::collections::{BTreeMap, VecDeque};

use rill_core::raft::checker::QuorumChecker;
use rill_core::raft::sim::{run_quorum_seed, QuorumFault, QuorumSim, QuorumSimConfig};
use rill_core::raft::{Durable, Payload, QuorumConfig, QuorumMessage, QuorumNode, ReplicaId, RoleKind};
use rill_core::rng::Rng;

/// Five voters driven by hand: who times out, and which messages arrive, is the test's choice.
struct Hand {
    now: u64,
    nodes: BTreeMap<ReplicaId, QuorumNode<u64>>,
    disks: BTreeMap<ReplicaId, Durable<u64>>,
    queue: VecDeque<(ReplicaId, ReplicaId, u64, QuorumMessage<u64>)>,
    checker: QuorumChecker,
    max_hw: BTreeMap<ReplicaId, i64>,
    /// The configured voters (`controller.quorum.voters`, or where a dynamic quorum starts).
    bootstrap: Vec<ReplicaId>,
    /// KIP-853: whether the voters may change.
    dynamic: bool,
}

impl Hand {
    /// Nodes 1..=`running` of a static quorum of voters 1..=5.
    fn new(running: i32) -> Hand {
        Hand::with((1..=5).collect(), false, running)
    }

    /// Nodes 1..=`running` of a quorum that starts with `bootstrap` and may change (KIP-853);
    /// those not in `bootstrap` are observers.
    fn dynamic(bootstrap: &[ReplicaId], running: i32) -> Hand {
        Hand::with(bootstrap.to_vec(), true, running)
    }

    fn with(bootstrap: Vec<ReplicaId>, dynamic: bool, running: i32) -> Hand {
        let mut hand = Hand {
            now: 0,
            nodes: BTreeMap::new(),
            disks: BTreeMap::new(),
            queue: VecDeque::new(),
            checker: QuorumChecker::new(),
            max_hw: BTreeMap::new(),
            bootstrap,
            dynamic,
        };
        for id in 1..=running {
            hand.start(id, Durable::default());
        }
        hand
    }

    fn start(&mut self, id: ReplicaId, disk: Durable<u64>) {
        let mut config = QuorumConfig::new(id, &self.bootstrap).unwrap();
        config.dynamic_voters = self.dynamic;
        config.fetch_max_entries = 1;
        let node = QuorumNode::new(config, disk, self.now, Rng::from_seed(u64::try_from(id).unwrap()));
        self.nodes.insert(id, node);
        self.checker.restarted(id);
        self.collect(id);
    }

    fn collect(&mut self, id: ReplicaId) {
        let Some(node) = self.nodes.get_mut(&id) else { return };
        while let Some(out) = node.poll_output() {
            self.queue.push_back((id, out.to, out.correlation_id, out.message));
        }
        while let Some(event) = node.poll_event() {
            self.checker.observe_event(self.now, id, &event);
        }
        self.checker.check_node(self.now, node);
        while let Some(entry) = node.poll_committed() {
            self.checker.check_applied(self.now, id, &entry);
        }
        let hw = self.max_hw.entry(id).or_insert(0);
        *hw = (*hw).max(node.high_watermark());
    }

    /// Time passes for `ids` only (their election or fetch timers fire).
    fn timeout(&mut self, ids: &[ReplicaId]) {
        self.now += 5_000;
        for id in ids {
            self.nodes.get_mut(id).unwrap().handle_timeout(self.now);
            self.collect(*id);
        }
    }

    /// Delivers queued messages that `pass` lets through (the rest are lost), until none are left.
    fn pump(&mut self, pass: impl Fn(ReplicaId, ReplicaId, &QuorumMessage<u64>) -> bool) {
        while let Some((from, to, correlation_id, message)) = self.queue.pop_front() {
            self.now += 1;
            if !pass(from, to, &message) || !self.nodes.contains_key(&to) {
                continue;
            }
            self.nodes.get_mut(&to).unwrap().handle_message(self.now, from, correlation_id, message);
            self.collect(to);
        }
    }

    fn crash(&mut self, id: ReplicaId) {
        let node = self.nodes.remove(&id).unwrap();
        self.disks.insert(id, node.durable().clone());
        self.queue.retain(|(from, to, _, _)| *from != id && *to != id);
    }

    fn restart(&mut self, id: ReplicaId) {
        let disk = self.disks.remove(&id).unwrap();
        self.start(id, disk);
    }

    fn node(&self, id: ReplicaId) -> &QuorumNode<u64> {
        &self.nodes[&id]
    }

    fn node_mut(&mut self, id: ReplicaId) -> &mut QuorumNode<u64> {
        self.nodes.get_mut(&id).unwrap()
    }

    /// Leader `leader` is asked to add (`add`) or remove voter `id`: its answer, in Kafka's
    /// error name (`NONE` when the change was appended).
    fn change(&mut self, leader: ReplicaId, add: bool, id: ReplicaId) -> String {
        let now = self.now;
        let node = self.node_mut(leader);
        let result = if add { node.add_voter(now, id) } else { node.remove_voter(now, id) };
        self.collect(leader);
        match result {
            Ok(_) => "NONE".to_string(),
            Err(error) => error.code.name().to_string(),
        }
    }
}

fn votes_only(message: &QuorumMessage<u64>) -> bool {
    matches!(message, QuorumMessage::Vote(_) | QuorumMessage::VoteResponse(_))
}

fn among(ids: &'static [ReplicaId]) -> impl Fn(ReplicaId, ReplicaId, &QuorumMessage<u64>) -> bool {
    move |from, to, _| ids.contains(&from) && ids.contains(&to)
}

/// Raft's figure 8, in KRaft's pull-based shape. A leader of epoch 3 holding an entry of epoch 1
/// must not count it committed once a majority has fetched it: only when an entry of its own
/// epoch (its `LeaderChange`) is on a majority. Otherwise a voter with an entry of epoch 2 wins
/// epoch 4 and erases what was "committed".
#[test]
fn an_old_epochs_entry_is_committed_only_with_the_new_leaders_own() {
    let mut hand = Hand::new(5);
    // (a) Node 1 leads epoch 1; every voter fetches its LeaderChange.
    hand.timeout(&[1]);
    hand.pump(|_, _, _| true);
    assert_eq!(hand.node(1).role(), RoleKind::Leader);
    assert_eq!(hand.node(1).high_watermark(), 1);
    // (b) Entry A (epoch 1, offset 1) reaches node 2 only; node 1 crashes.
    hand.nodes.get_mut(&1).unwrap().propose(hand.now, 100).unwrap();
    hand.collect(1);
    hand.pump(among(&[1, 2]));
    assert_eq!(hand.node(2).end_offset(), 2);
    hand.crash(1);
    // (c) Node 5 wins epoch 2 with nodes 3 and 4, writes its LeaderChange, and crashes before
    // anyone fetches it.
    hand.timeout(&[3, 4]);
    hand.pump(|_, _, _| false);
    hand.timeout(&[5]);
    hand.pump(|from, to, message| votes_only(message) && [3, 4, 5].contains(&from) && [3, 4, 5].contains(&to));
    assert_eq!((hand.node(5).role(), hand.node(5).epoch()), (RoleKind::Leader, 2));
    hand.crash(5);
    // (d) Node 1 comes back and wins epoch 3 with nodes 2, 3, 4. Node 3 fetches A, then a
    // majority (1, 2, 3) has offset 1 — but not node 1's LeaderChange at offset 2.
    hand.restart(1);
    hand.timeout(&[2]);
    hand.pump(|_, _, _| false);
    hand.timeout(&[1]);
    hand.pump(|from, to, message| votes_only(message) && from != 5 && to != 5);
    assert_eq!(hand.node(1).epoch(), 2, "nodes 3 and 4 told node 1 of epoch 2");
    let own_epoch = |message: &QuorumMessage<u64>| match message {
        QuorumMessage::FetchResponse(response) => response.entries.iter().any(|e| e.epoch == 3),
        _ => false,
    };
    hand.timeout(&[1]);
    hand.pump(|from, to, message| from != 5 && to != 5 && !own_epoch(message));
    assert_eq!((hand.node(1).role(), hand.node(1).epoch()), (RoleKind::Leader, 3));
    assert_eq!(hand.node(3).end_offset(), 2, "node 3 fetched A");
    assert_eq!(hand.max_hw[&1], 1, "A is not committed while epoch 3's own entry is not on a majority");
    hand.crash(1);
    // (e) Node 5 (last epoch 2) wins epoch 4 with 3 and 4: A was never committed, so losing it
    // breaks nothing. (Counting replicas alone, node 1 would have called A committed.)
    hand.restart(5);
    hand.timeout(&[2, 3, 4]);
    hand.pump(|_, _, _| false);
    hand.timeout(&[5]);
    hand.pump(|from, to, message| votes_only(message) && from != 1 && to != 1);
    assert_eq!(hand.node(5).epoch(), 3);
    hand.timeout(&[5]);
    hand.pump(|from, to, _| from != 1 && to != 1);
    assert_eq!((hand.node(5).role(), hand.node(5).epoch()), (RoleKind::Leader, 4));
    assert_eq!(hand.node(3).log()[1].payload, Payload::LeaderChange { leader: 5, voters: vec![1, 2, 3, 4, 5] });
    assert_eq!(hand.checker.violations(), &[] as &[String]);
}

/// KIP-630: a leader snapshots and drops the entries before; a voter that was down since the
/// start cannot fetch them, fetches the snapshot instead, and fetches on from its end. A
/// snapshot that is not the committed state is caught by the checker.
#[test]
fn a_voter_behind_the_log_start_loads_the_leaders_snapshot() {
    let mut hand = Hand::new(5);
    hand.crash(5);
    hand.timeout(&[1]);
    hand.pump(|_, _, _| true);
    assert_eq!(hand.node(1).role(), RoleKind::Leader);
    for value in 100..110 {
        hand.nodes.get_mut(&1).unwrap().propose(hand.now, value).unwrap();
        hand.collect(1);
        hand.pump(|_, _, _| true);
        // The followers learn the new HW with their next fetch (held by the leader until then).
        hand.timeout(&[1]);
        hand.pump(|_, _, _| true);
    }
    let leader_end = hand.node(1).end_offset();
    assert_eq!(leader_end, 11, "a LeaderChange and ten values");
    assert_eq!(hand.node(1).applied_offset(), 11);
    let leader = hand.nodes.get_mut(&1).unwrap();
    let id = leader.take_snapshot(109).expect("there is something to cover");
    assert_eq!((id.end_offset, id.epoch), (11, 1));
    assert_eq!((leader.start_offset(), leader.log().len()), (11, 0), "the covered entries left the log");
    hand.collect(1);
    // Node 5 comes back with an empty log: everything it needs is in the snapshot.
    hand.restart(5);
    hand.timeout(&[1]);
    hand.pump(|_, _, _| true);
    let fetched_snapshot = hand.node(5).snapshot().map(|s| (s.id, s.state));
    assert_eq!(fetched_snapshot, Some((id, 109)), "node 5 holds the leader's snapshot");
    assert_eq!(hand.node(5).start_offset(), 11);
    assert_eq!(hand.node(5).applied_offset(), 11, "its state machine started from the snapshot");
    // It goes on from the snapshot's end like any follower.
    hand.nodes.get_mut(&1).unwrap().propose(hand.now, 110).unwrap();
    hand.collect(1);
    hand.pump(|_, _, _| true);
    hand.timeout(&[1]);
    hand.pump(|_, _, _| true);
    assert_eq!(hand.node(5).end_offset(), 12);
    assert_eq!(hand.node(5).log()[0].payload, Payload::Data(110));
    assert_eq!(hand.checker.violations(), &[] as &[String]);
    // A snapshot holding another state than the committed log's is a violation.
    let wrong = hand.nodes.get_mut(&2).unwrap().take_snapshot(7);
    assert!(wrong.is_some());
    hand.collect(2);
    let violations = hand.checker.violations().join("\n");
    assert!(violations.contains("is not the state of the committed log"), "{violations}");
}

fn quiet(voters: i32, faults: Vec<(u64, QuorumFault)>) -> QuorumSimConfig {
    QuorumSimConfig {
        seed: 7,
        voters,
        observers: 1,
        faults,
        fault_phase_ms: 10_000,
        settle_ms: 10_000,
        latency_ms: (1, 5),
        drop_per_million: 0,
        propose_every_ms: 50,
        fetch_max_entries: 64,
        snapshot_every: 0,
        dynamic_voters: false,
    }
}

#[test]
fn random_runs_keep_raft_safety_and_recover() {
    let mut failures = Vec::new();
    let (mut elections, mut snapshot_loads) = (0, 0);
    for seed in 0..500 {
        let report = std::panic::catch_unwind(|| run_quorum_seed(seed));
        match report {
            Ok(report) if report.violations.is_empty() => {
                elections += report.elections;
                snapshot_loads += report.snapshot_loads;
            }
            Ok(report) => failures.push(format!("seed {seed}: {:?}", report.violations)),
            Err(_) => failures.push(format!("seed {seed}: a replica's own assertion failed")),
        }
    }
    assert!(failures.is_empty(), "{} seeds failed:\n{}", failures.len(), failures.join("\n"));
    assert!(elections > 1_000, "the faults force elections (got {elections} in 500 runs)");
    assert!(snapshot_loads > 100, "replicas behind the log start load snapshots (got {snapshot_loads})");
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let a = run_quorum_seed(42);
    let b = run_quorum_seed(42);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_ne!(a.trace_hash, run_quorum_seed(43).trace_hash);
}

fn leaders_in(report: &rill_core::raft::sim::QuorumRunReport) -> Vec<String> {
    report.trace.iter().filter(|line| line.contains("role: Leader")).cloned().collect()
}

#[test]
fn a_voter_cut_off_and_back_does_not_disturb_the_leader() {
    // Pre-vote (KIP-996): the cut-off voter asks, at its own epoch, and nobody changes state;
    // without it, it would come back in a higher epoch and depose a healthy leader.
    let report =
        QuorumSim::new(quiet(3, vec![(3_000, QuorumFault::Partition(vec![3])), (9_000, QuorumFault::HealNetwork)]))
            .traced()
            .run();
    assert_eq!(report.violations, Vec::<String>::new());
    let leaders = leaders_in(&report);
    assert_eq!(leaders.len(), 1, "one election, at the start: {leaders:?}");
    assert!(report.trace.iter().any(|line| line.contains("node 3: Role { role: Prospective")));
}

#[test]
fn a_cut_off_leader_resigns_and_the_majority_elects_another() {
    let report = QuorumSim::new(quiet(3, vec![(3_000, QuorumFault::IsolateLeader(8_000))])).traced().run();
    assert_eq!(report.violations, Vec::<String>::new());
    assert_eq!(leaders_in(&report).len(), 2, "{:?}", leaders_in(&report));
    // Check-quorum: 1.5 fetch timeouts without a majority fetching, then EndQuorumEpoch.
    let resigned = report.trace.iter().find(|line| line.contains("role: Resigned")).expect("the old leader resigned");
    let at: u64 = resigned.split_whitespace().next().unwrap().parse().unwrap();
    assert!((5_900..=6_200).contains(&at), "resigned at {at} ms: {resigned}");
}

#[test]
fn killing_the_leader_elects_another_within_the_timeouts() {
    let report = QuorumSim::new(quiet(5, vec![(5_000, QuorumFault::KillLeader(20_000))])).traced().run();
    assert_eq!(report.violations, Vec::<String>::new());
    let leaders = leaders_in(&report);
    assert_eq!(leaders.len(), 2, "{leaders:?}");
    let at: u64 = leaders[1].split_whitespace().next().unwrap().parse().unwrap();
    // A follower stands after controller.quorum.fetch.timeout.ms (2 s); pre-vote, vote and
    // backoff take at most a few election timeouts more.
    assert!((6_500..10_000).contains(&at), "new leader at {at} ms");
    assert!(report.committed > 300, "it kept committing: {}", report.committed);
}

#[test]
fn bad_voter_lists_are_refused() {
    let error = QuorumConfig::new(1, &[1, 2, 2]).unwrap_err();
    assert!(error.to_string().contains("names node 2 twice"), "{error}");
    assert!(QuorumConfig::new(1, &[]).unwrap_err().to_string().contains("names no voter"));
    assert!(QuorumConfig::new(-1, &[1]).unwrap_err().to_string().contains("negative"));
}

#[test]
fn voters_that_disagree_on_the_voter_set_say_so() {
    // Node 3 believes the voters are 1, 2, 3; nodes 1 and 2 that they are 1 and 2.
    let mut nodes: Vec<QuorumNode<u64>> = (1..=3)
        .map(|id| {
            let voters: &[i32] = if id == 3 { &[1, 2, 3] } else { &[1, 2] };
            QuorumNode::new(QuorumConfig::new(id, voters).unwrap(), Durable::default(), 0, Rng::from_seed(7))
        })
        .collect();
    let mut mismatches = Vec::new();
    let mut now = 0;
    for _ in 0..200 {
        now += 50;
        let mut mail = Vec::new();
        for node in &mut nodes {
            node.handle_timeout(now);
            while let Some(out) = node.poll_output() {
                mail.push((node.config().node_id, out));
            }
        }
        for (from, out) in mail {
            let node = &mut nodes[usize::try_from(out.to - 1).unwrap()];
            node.handle_message(now, from, out.correlation_id, out.message);
        }
        for node in &mut nodes {
            while let Some(event) = node.poll_event() {
                if let rill_core::raft::QuorumEvent::VoterSetMismatch { other, odd_one_out, .. } = event {
                    mismatches.push((node.config().node_id, other, odd_one_out));
                }
            }
        }
    }
    // Node 3 is the odd one out (the others refuse its vote); they only notice.
    assert!(mismatches.iter().any(|m| *m == (3, 1, true) || *m == (3, 2, true)), "{mismatches:?}");
    assert!(mismatches.iter().any(|(me, other, odd)| *me != 3 && *other == 3 && !odd), "{mismatches:?}");
    assert!(!mismatches.iter().any(|(me, _, odd)| *me != 3 && *odd), "{mismatches:?}");
}

/// KIP-853 on a quorum of 1, 2, 3 with node 4 observing: a voter is added only once it fetches
/// up to the leader's high watermark; one change at a time; a leader that removes itself leads
/// until that commits, then resigns, and the others elect a leader among the voters now.
#[test]
fn voters_are_added_and_removed_one_at_a_time() {
    let mut hand = Hand::dynamic(&[1, 2, 3], 4);
    hand.timeout(&[1]);
    hand.pump(|_, _, _| true);
    assert_eq!(hand.node(1).role(), RoleKind::Leader);
    assert_eq!(hand.change(1, true, 4), "REQUEST_TIMED_OUT", "node 4 has not fetched yet");
    // Node 4 looks for the leader (asking node 2 or 3, which name it), then fetches up to its
    // high watermark.
    for _ in 0..2 {
        hand.timeout(&[4]);
        hand.pump(|_, _, _| true);
    }
    assert_eq!(hand.node(4).role(), RoleKind::Follower);
    assert_eq!(hand.node(4).voters(), [1, 2, 3]);
    assert_eq!(hand.change(1, true, 2), "DUPLICATE_VOTER");
    assert_eq!(hand.change(1, false, 9), "VOTER_NOT_FOUND");
    assert_eq!(hand.change(1, true, 4), "NONE");
    assert_eq!(hand.node(1).voters(), [1, 2, 3, 4], "the leader uses the new set at once");
    assert_eq!(hand.change(1, false, 3), "REQUEST_TIMED_OUT", "the addition is not committed yet");
    hand.pump(|_, _, _| true);
    for id in 1..=4 {
        assert_eq!(hand.node(id).voters(), [1, 2, 3, 4], "node {id}");
    }
    // Four voters: the high watermark needs three of them. Node 1 removes itself.
    assert_eq!(hand.change(1, false, 1), "NONE");
    assert_eq!(hand.node(1).role(), RoleKind::Leader, "it leads until the removal commits");
    hand.pump(|_, _, _| true);
    assert_eq!(hand.node(1).role(), RoleKind::Resigned, "committed: it resigned");
    assert_eq!(hand.node(2).voters(), [2, 3, 4]);
    // The voters now elect one of themselves; node 1 goes on as an observer.
    hand.timeout(&[2]);
    hand.pump(|_, _, _| true);
    for _ in 0..2 {
        hand.timeout(&[1]);
        hand.pump(|_, _, _| true);
    }
    let leaders: Vec<ReplicaId> = (1..=4).filter(|id| hand.node(*id).role() == RoleKind::Leader).collect();
    assert_eq!(leaders.len(), 1, "{leaders:?}");
    assert_ne!(leaders[0], 1, "node 1 no longer votes, so it cannot lead");
    assert_eq!((hand.node(1).role(), hand.node(1).leader()), (RoleKind::Follower, Some(leaders[0])));
    assert_eq!(hand.checker.violations(), &[] as &[String]);
}

/// A leader of 1, 2 removes itself and crashes before node 2 fetches the change. Node 1's log
/// says it no longer votes; node 2's still counts it, and refuses to vote for a node with a
/// longer log than its own... so node 1 must stand to finish the change, though it is not in
/// the set it appended. Without that the quorum would never elect again.
#[test]
fn a_leader_that_removed_itself_and_crashed_finishes_the_change() {
    let mut hand = Hand::dynamic(&[1, 2], 2);
    hand.timeout(&[1]);
    hand.pump(|_, _, _| true);
    let now = hand.now;
    hand.node_mut(1).propose(now, 7).unwrap();
    hand.collect(1);
    hand.pump(|_, _, _| true);
    assert_eq!(hand.change(1, false, 1), "NONE");
    hand.crash(1);
    hand.restart(1);
    assert_eq!(hand.node(1).voters(), [2]);
    assert_eq!(hand.node(2).voters(), [1, 2]);
    for _ in 0..6 {
        hand.timeout(&[1, 2]);
        hand.pump(|_, _, _| true);
    }
    assert_eq!(hand.node(2).role(), RoleKind::Leader, "{:?}", hand.node(2).voters());
    assert_eq!(hand.node(2).voters(), [2]);
    assert_eq!((hand.node(1).role(), hand.node(1).leader()), (RoleKind::Follower, Some(2)));
    assert!(hand.node(1).high_watermark() > 3, "the removal is committed");
    assert_eq!(hand.checker.violations(), &[] as &[String]);
}

#[test]
fn a_static_quorum_refuses_voter_changes() {
    let mut hand = Hand::new(5);
    hand.timeout(&[1]);
    hand.pump(|_, _, _| true);
    assert_eq!(hand.change(1, true, 6), "UNSUPPORTED_VERSION");
    assert_eq!(hand.change(1, false, 5), "UNSUPPORTED_VERSION");
    assert_eq!(hand.change(2, false, 5), "UNSUPPORTED_VERSION");
}

/// Half the random runs change their voters; changes are accepted, refused and committed, with
/// every safety property and liveness after heal.
#[test]
fn random_runs_change_their_voters() {
    let (mut accepted, mut dynamic_runs) = (0, 0);
    for seed in 0..200 {
        let report = run_quorum_seed(seed);
        assert_eq!(report.violations, Vec::<String>::new(), "seed {seed}");
        if report.voter_changes > 0 {
            dynamic_runs += 1;
        }
        accepted += report.voter_changes;
    }
    assert!(dynamic_runs > 50, "{dynamic_runs} runs changed their voters");
    assert!(accepted > 100, "{accepted} voter changes accepted");
}

/// The checker catches a second voter change written while the first is not committed.
#[test]
fn the_checker_catches_two_uncommitted_voter_changes() {
    let entry = |offset: i64, payload: Payload<u64>| rill_core::raft::Entry { offset, epoch: 1, payload };
    let durable = Durable {
        epoch: 1,
        voted_for: Some(1),
        leader: None,
        snapshot: None,
        log: vec![
            entry(0, Payload::LeaderChange { leader: 1, voters: vec![1, 2, 3] }),
            entry(1, Payload::Voters { voters: vec![1, 2, 3, 4] }),
            entry(2, Payload::Voters { voters: vec![1, 2, 3, 4, 5] }),
        ],
    };
    let mut config = QuorumConfig::new(1, &[1, 2, 3]).unwrap();
    config.dynamic_voters = true;
    let node = QuorumNode::new(config, durable, 0, Rng::from_seed(1));
    assert_eq!(node.voters(), [1, 2, 3, 4, 5], "the newest VotersRecord counts, committed or not");
    let mut checker = QuorumChecker::new();
    checker.check_node(0, &node);
    let violations = checker.violations().join("\n");
    assert!(violations.contains("voter change at offset 2 while the one at 1 was not committed"), "{violations}");
}
