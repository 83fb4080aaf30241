//! Pull-based replication of the metadata log: fetch, diverging epochs, the quorum high
//! watermark.

use crate::error::ErrorCode;

use super::messages::{FetchSnapshot, QuorumFetch, QuorumFetchResponse};
use super::{Entry, Payload, QuorumEvent, QuorumMessage, QuorumNode, ReplicaId, ReplicaProgress, Role};

impl<R: Clone> QuorumNode<R> {
    pub(super) fn append_as_leader(&mut self, payload: Payload<R>) -> i64 {
        assert!(matches!(self.role, Role::Leader(_)), "only a leader appends on its own");
        let offset = self.durable.end_offset();
        let epoch = self.durable.epoch;
        assert!(self.durable.last_epoch() <= epoch, "epochs never go back along the log");
        self.durable.log.push(Entry { offset, epoch, payload });
        self.voters_appended();
        offset
    }

    /// After the leader's log grew: maybe commit, and answer the fetches it held.
    pub(super) fn after_leader_append(&mut self, now_ms: u64) {
        self.advance_high_watermark();
        self.answer_parked(now_ms);
    }

    /// HW = the largest offset a majority of the voters now (the leader's log end counted while
    /// it is one) has reached, once that covers the leader's `LeaderChange` entry. It never
    /// moves back.
    fn advance_high_watermark(&mut self) -> bool {
        let Role::Leader(leadership) = &self.role else { return false };
        let me = self.config.node_id;
        let mut ends: Vec<i64> = self
            .voters
            .iter()
            .map(|v| {
                if *v == me {
                    self.durable.end_offset()
                } else {
                    leadership.progress.get(v).map_or(0, |p| p.end_offset.max(0))
                }
            })
            .collect();
        crate::collections::sort(&mut ends);
        ends.reverse();
        let majority_end = ends[self.majority() - 1];
        if majority_end > leadership.epoch_start && majority_end > self.high_watermark {
            self.high_watermark = majority_end;
            return true;
        }
        false
    }

    fn answer_parked(&mut self, now_ms: u64) {
        let Role::Leader(leadership) = &mut self.role else { return };
        if leadership.parked.is_empty() {
            return;
        }
        let parked = std::mem::take(&mut leadership.parked);
        for (from, correlation_id, fetch, _) in parked {
            self.answer_fetch(now_ms, from, correlation_id, fetch, false);
        }
    }

    fn fetch_error(&mut self, to: ReplicaId, correlation_id: u64, error: ErrorCode) {
        let response = QuorumFetchResponse {
            error,
            epoch: self.durable.epoch,
            leader: self.durable.leader,
            high_watermark: -1,
            diverging: None,
            entries: Vec::new(),
            snapshot_id: None,
        };
        self.reply(to, correlation_id, QuorumMessage::FetchResponse(response));
    }

    pub(super) fn on_fetch(&mut self, now_ms: u64, correlation_id: u64, fetch: QuorumFetch) {
        let from = fetch.replica;
        if fetch.epoch > self.durable.epoch {
            self.observe_epoch(now_ms, fetch.epoch, None);
        }
        if fetch.epoch < self.durable.epoch {
            self.fetch_error(from, correlation_id, ErrorCode::FencedLeaderEpoch);
            return;
        }
        if !matches!(self.role, Role::Leader(_)) {
            self.fetch_error(from, correlation_id, ErrorCode::NotLeaderOrFollower);
            return;
        }
        self.answer_fetch(now_ms, from, correlation_id, fetch, true);
    }

    /// The leader answers a fetch now, or (`may_park`) holds it while the fetcher has every
    /// entry and the current high watermark (KIP-1166: the fetch carries the fetcher's HW).
    pub(super) fn answer_fetch(
        &mut self,
        now_ms: u64,
        from: ReplicaId,
        correlation_id: u64,
        fetch: QuorumFetch,
        may_park: bool,
    ) {
        if !matches!(self.role, Role::Leader(_)) || fetch.epoch != self.durable.epoch {
            self.fetch_error(from, correlation_id, ErrorCode::NotLeaderOrFollower);
            return;
        }
        if fetch.fetch_offset < 0 {
            self.fetch_error(from, correlation_id, ErrorCode::InvalidRequest);
            return;
        }
        let end = self.durable.end_offset();
        let start = self.durable.start_offset();
        // KIP-320: the fetcher's last entry must be where the leader has that epoch. (A fetch
        // past the leader's log end always fails this.)
        let known = self.durable.end_offset_for(fetch.last_fetched_epoch);
        let diverges = fetch.fetch_offset > 0
            && (known.epoch != fetch.last_fetched_epoch || known.end_offset < fetch.fetch_offset);
        // KIP-630: below the log start — or diverging there — only the snapshot can help.
        let below_start = fetch.fetch_offset < start || (diverges && known.end_offset < start);
        if diverges || below_start {
            let snapshot_id = if below_start { self.durable.snapshot.as_ref().map(|s| s.id) } else { None };
            let response = QuorumFetchResponse {
                error: ErrorCode::None,
                epoch: self.durable.epoch,
                leader: Some(self.config.node_id),
                high_watermark: self.high_watermark,
                diverging: if below_start { None } else { Some(known) },
                entries: Vec::new(),
                snapshot_id,
            };
            self.reply(from, correlation_id, QuorumMessage::FetchResponse(response));
            return;
        }
        assert!(fetch.fetch_offset <= end, "a fetch past the log end diverges");
        // Everything below fetch_offset matches the leader's log: record the progress.
        let progress = self.record_fetch(now_ms, from).expect("checked above: it leads");
        progress.end_offset = fetch.fetch_offset;
        if fetch.fetch_offset == end {
            progress.last_caught_up_ms = now_ms;
        }
        if self.advance_high_watermark() {
            self.answer_parked(now_ms);
        }
        let up_to_date = fetch.fetch_offset == end && fetch.high_watermark >= self.high_watermark;
        if may_park && up_to_date {
            let until = now_ms + self.config.fetch_max_wait_ms;
            let Role::Leader(leadership) = &mut self.role else { unreachable!("still leading") };
            // A newer fetch from the same replica replaces the one held.
            leadership.parked.retain(|p| p.0 != from);
            leadership.parked.push((from, correlation_id, fetch, until));
            return;
        }
        let from_index = usize::try_from(fetch.fetch_offset - start).expect("checked: at or past the log start");
        let stop = self.durable.log.len().min(from_index + self.config.fetch_max_entries);
        let entries = self.durable.log[from_index..stop].to_vec();
        let response = QuorumFetchResponse {
            error: ErrorCode::None,
            epoch: self.durable.epoch,
            leader: Some(self.config.node_id),
            high_watermark: self.high_watermark,
            diverging: None,
            entries,
            snapshot_id: None,
        };
        self.reply(from, correlation_id, QuorumMessage::FetchResponse(response));
    }

    /// A leader notes that `from` fetched (entries or its snapshot) at `now_ms`: it is alive
    /// for check-quorum, and a voter has begun the epoch. Its progress, or `None` unless leading.
    pub(super) fn record_fetch(&mut self, now_ms: u64, from: ReplicaId) -> Option<&mut ReplicaProgress> {
        let voter = self.is_voter(from);
        let Role::Leader(leadership) = &mut self.role else { return None };
        if voter {
            leadership.begun.insert(from);
        }
        let progress = leadership.progress.entry(from).or_insert(ReplicaProgress {
            end_offset: -1,
            last_fetch_ms: now_ms,
            last_caught_up_ms: 0,
        });
        progress.last_fetch_ms = now_ms;
        Some(progress)
    }

    /// An answer to a fetch (entries or snapshot) from `from`: clears the fetch in flight if
    /// this is its answer (whether it is is returned), and learns the epoch and leader it names.
    pub(super) fn take_fetch_answer(
        &mut self,
        now_ms: u64,
        from: ReplicaId,
        correlation_id: u64,
        epoch: i32,
        leader: Option<ReplicaId>,
    ) -> bool {
        let ours = self.fetch_in_flight.is_some_and(|(id, to, _)| id == correlation_id && to == from);
        if ours {
            self.fetch_in_flight = None;
        }
        self.observe_epoch(now_ms, epoch, leader);
        ours
    }

    /// A follower heard from `from`: when that is its leader, the fetch timer starts again (and
    /// it refuses pre-votes from now on, KIP-996). Whether `from` is its leader.
    pub(super) fn heard_from_leader(&mut self, now_ms: u64, from: ReplicaId) -> bool {
        let Role::Follower { leader, fetched, fetch_deadline } = &mut self.role else { return false };
        if *leader != from {
            return false;
        }
        *fetched = true;
        *fetch_deadline = now_ms + self.config.fetch_timeout_ms;
        true
    }

    pub(super) fn on_fetch_response(
        &mut self,
        now_ms: u64,
        from: ReplicaId,
        correlation_id: u64,
        response: QuorumFetchResponse<R>,
    ) {
        let ours = self.take_fetch_answer(now_ms, from, correlation_id, response.epoch, response.leader);
        if !ours || response.epoch != self.durable.epoch || response.error != ErrorCode::None {
            if ours {
                // Ask the next voter who leads (observers), after a short wait.
                self.discovery += 1;
                self.fetch_backoff_until = Some(now_ms + self.config.retry_backoff_ms);
            }
            return;
        }
        if !self.heard_from_leader(now_ms, from) {
            return;
        }
        if let Some(id) = response.snapshot_id {
            self.snapshot_fetch = Some(id);
            return;
        }
        if let Some(diverging) = response.diverging {
            let local = self.durable.end_offset_for(diverging.epoch);
            let to = diverging.end_offset.min(local.end_offset);
            self.truncate(to);
            return;
        }
        let Some(first) = response.entries.first() else {
            self.learn_high_watermark(response.high_watermark);
            return;
        };
        if first.offset != self.durable.end_offset() {
            return; // an answer to an older position
        }
        for entry in response.entries {
            if let Payload::LeaderChange { leader, voters } = &entry.payload {
                // The leader wrote the voters of its log there; this log is the same up to it.
                if *voters != self.voters && self.is_voter(self.config.node_id) {
                    self.events.push_back(QuorumEvent::VoterSetMismatch {
                        other: *leader,
                        theirs: Some(voters.clone()),
                        odd_one_out: true,
                    });
                }
            }
            assert_eq!(entry.offset, self.durable.end_offset(), "fetched entries are dense");
            assert!(entry.epoch >= self.durable.last_epoch(), "epochs never go back along the log");
            assert!(entry.epoch <= self.durable.epoch, "an entry from a future epoch");
            self.durable.log.push(entry);
            self.voters_appended();
        }
        self.learn_high_watermark(response.high_watermark);
    }

    /// A follower's HW: the leader's, capped by its own log; never back.
    fn learn_high_watermark(&mut self, leader_hw: i64) {
        let hw = leader_hw.min(self.durable.end_offset());
        if hw > self.high_watermark {
            self.high_watermark = hw;
        }
    }

    /// Removes the entries from `to` on. Committed entries are never removed (asserted: that
    /// would lose metadata the quorum acknowledged).
    fn truncate(&mut self, to: i64) {
        assert!(!matches!(self.role, Role::Leader(_)), "a leader never truncates its own log");
        let from = self.durable.end_offset();
        if to >= from {
            return;
        }
        assert!(
            to >= self.high_watermark,
            "node {} would truncate to {to}, below its high watermark {}",
            self.config.node_id,
            self.high_watermark
        );
        let keep = to - self.durable.start_offset();
        self.durable.log.truncate(usize::try_from(keep).expect("the HW is at or past the log start"));
        self.refresh_voters();
        self.events.push_back(QuorumEvent::Truncated { to, from });
    }

    /// Sends the next fetch if none is in flight: to the leader, or (without one) to the voters
    /// in turn to find it.
    pub(super) fn maybe_fetch(&mut self, now_ms: u64) {
        if self.fetch_in_flight.is_some() {
            return;
        }
        match self.fetch_backoff_until {
            Some(until) if now_ms < until => return,
            Some(_) => self.fetch_backoff_until = None,
            None => {}
        }
        let me = self.config.node_id;
        let target = match &self.role {
            Role::Follower { leader, .. } => Some(*leader),
            Role::Unattached { .. } if !self.may_stand() => {
                // The voters now, then the configured ones (a removed voter may still know).
                let mut others: Vec<ReplicaId> = self.voters.iter().filter(|v| **v != me).copied().collect();
                for id in &self.config.voters {
                    if *id != me && !others.contains(id) {
                        others.push(*id);
                    }
                }
                (!others.is_empty()).then(|| others[self.discovery % others.len()])
            }
            _ => None,
        };
        let Some(target) = target else { return };
        if let Some(snapshot_id) = self.snapshot_fetch {
            let fetch = FetchSnapshot { replica: me, epoch: self.durable.epoch, snapshot_id };
            let correlation_id = self.send(target, QuorumMessage::FetchSnapshot(fetch));
            let resend_at = now_ms + self.config.request_timeout_ms;
            self.fetch_in_flight = Some((correlation_id, target, resend_at));
            return;
        }
        let fetch = QuorumFetch {
            replica: me,
            epoch: self.durable.epoch,
            fetch_offset: self.durable.end_offset(),
            last_fetched_epoch: self.durable.last_epoch(),
            high_watermark: self.high_watermark,
        };
        let correlation_id = self.send(target, QuorumMessage::Fetch(fetch));
        let resend_at = now_ms + self.config.fetch_max_wait_ms + self.config.request_timeout_ms;
        self.fetch_in_flight = Some((correlation_id, target, resend_at));
    }
}
