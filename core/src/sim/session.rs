//! A [`Session`]: a simulation together with the [`Recording`] of every action taken on it,
//! so any past moment can be replayed exactly and the future forked.
//!
//! A run is fully described by its [`ClusterSpec`] and the actions taken, each stamped with
//! the number of events processed and the virtual time when it was taken. Replaying the
//! actions at the same points of a fresh simulation from the same spec gives the same trace
//! (the simulation is deterministic), which is what makes a shared URL, a timeline scrubber
//! and side-by-side comparisons work. Changing the spec and replaying the same actions gives
//! "the same fault schedule under another config".

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode, Result};

use super::checker::CheckReport;
use super::spec::{ClusterSpec, GroupMemberSpec, ProduceSpec, WorkloadSpec};
use super::{Fault, MessageRef, Sim};

/// Most recorded actions in one run (a limit on everything).
pub const RECORDING_STEPS_MAX: usize = 10_000;

/// How an error about a recording whose actions no longer line up with its spec begins (see
/// [`Session::replay_with_spec`] for replaying such actions by time instead).
pub const MISALIGNED: &str = "the recorded actions do not fit this spec";

/// Something a person (or a test) does to a running simulation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// A fault or network action.
    Fault(Fault),
    /// Send one record.
    Produce(ProduceSpec),
    /// Start a steady producer workload.
    StartProducer(WorkloadSpec),
    /// Stop a producer workload (by client number).
    StopProducer(u32),
    /// Add a consumer-group member.
    AddMember(GroupMemberSpec),
    /// Drop one message on the wire between two brokers, by hand.
    DropMessage(MessageRef),
    /// Hold one message on the wire between two brokers back, by hand.
    DelayMessage {
        /// The message.
        message: MessageRef,
        /// By how long (1 ms to a minute).
        by_ms: u64,
    },
    /// Remove a consumer-group member (by client number).
    RemoveMember {
        /// Client number.
        client: u32,
        /// Leave the group (true) or just stop (false).
        graceful: bool,
    },
}

/// An action at a point of the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Events processed when it was taken.
    pub at_event: u64,
    /// Virtual time when it was taken.
    pub at_ms: u64,
    /// What was done.
    pub action: Action,
}

/// A reproducible run: the spec, the actions, and how far it went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Recording {
    /// The cluster.
    pub spec: ClusterSpec,
    /// Actions in the order they were taken.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Events processed at the furthest point reached.
    #[serde(default)]
    pub until_event: u64,
    /// Virtual time at the furthest point reached.
    #[serde(default)]
    pub until_ms: u64,
}

impl Recording {
    /// A recording of nothing yet.
    #[must_use]
    pub fn new(spec: ClusterSpec) -> Recording {
        Recording { spec, steps: Vec::new(), until_event: 0, until_ms: 0 }
    }

    fn validate(&self) -> Result<()> {
        if self.steps.len() > RECORDING_STEPS_MAX {
            return Err(Error::new(
                ErrorCode::InvalidRequest,
                format!("a recording holds at most {RECORDING_STEPS_MAX} actions, got {}", self.steps.len()),
            ));
        }
        for pair in self.steps.windows(2) {
            if (pair[1].at_event, pair[1].at_ms) < (pair[0].at_event, pair[0].at_ms) {
                return Err(Error::new(ErrorCode::InvalidRequest, "recorded actions must be in the order taken"));
            }
        }
        Ok(())
    }
}

/// A simulation and its recording. See the module doc.
#[derive(Debug)]
pub struct Session {
    recording: Recording,
    sim: Sim,
    /// Index of the first recorded step not applied yet.
    next_step: usize,
}

impl Session {
    /// A new run of `spec`.
    pub fn new(spec: ClusterSpec) -> Result<Session> {
        let sim = Sim::from_spec(&spec)?;
        Ok(Session { recording: Recording::new(spec), sim, next_step: 0 })
    }

    /// A recording's run from its start, with every recorded action still ahead (a guided
    /// scenario, or a run to scrub through).
    pub fn at_start(recording: Recording) -> Result<Session> {
        recording.validate()?;
        let sim = Sim::from_spec(&recording.spec)?;
        let mut session = Session { recording, sim, next_step: 0 };
        session.apply_due()?;
        Ok(session)
    }

    /// Replays a recording up to where it went. A recorded action that fails now (the spec
    /// was changed, say) is an error naming it.
    pub fn replay(recording: Recording) -> Result<Session> {
        recording.validate()?;
        let (until_event, until_ms) = (recording.until_event, recording.until_ms);
        let sim = Sim::from_spec(&recording.spec)?;
        let mut session = Session { recording, sim, next_step: 0 };
        session.seek(until_event)?;
        if session.sim.now_ms() < until_ms && session.next_step == session.recording.steps.len() {
            session.sim.run_until(until_ms);
        }
        Ok(session)
    }

    /// The same actions under another spec (what changes when only the config does); actions
    /// that no longer apply are skipped and counted.
    pub fn replay_with_spec(recording: &Recording, spec: ClusterSpec) -> Result<(Session, usize)> {
        let mut session = Session::new(spec)?;
        let mut skipped = 0;
        for step in &recording.steps {
            session.run_to(u64::MAX, step.at_ms);
            if session.act(step.action.clone()).is_err() {
                skipped += 1;
            }
        }
        session.run_to(u64::MAX, recording.until_ms);
        session.note_progress();
        Ok((session, skipped))
    }

    /// Runs (without recorded actions) until `events` events or `at_ms`, whichever is first.
    fn run_to(&mut self, events: u64, at_ms: u64) {
        while self.sim.events() < events && self.sim.next_event_ms().is_some_and(|next_ms| next_ms <= at_ms) {
            if !self.sim.step() {
                break;
            }
        }
        if self.sim.now_ms() < at_ms && self.sim.next_event_ms().is_none_or(|next_ms| next_ms > at_ms) {
            self.sim.run_until(at_ms);
        }
    }

    /// The simulation.
    #[must_use]
    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    /// The recording so far (including a replayed future not yet reached).
    #[must_use]
    pub fn recording(&self) -> &Recording {
        &self.recording
    }

    /// The recording cut at the present: what a shared link should reproduce.
    #[must_use]
    pub fn recording_now(&self) -> Recording {
        Recording {
            spec: self.recording.spec.clone(),
            steps: self.recording.steps[..self.next_step].to_vec(),
            until_event: self.sim.events(),
            until_ms: self.sim.now_ms(),
        }
    }

    /// Events at the furthest point reached.
    #[must_use]
    pub fn head_event(&self) -> u64 {
        self.recording.until_event.max(self.sim.events())
    }

    fn note_progress(&mut self) {
        if self.sim.events() >= self.recording.until_event {
            self.recording.until_event = self.sim.events();
            self.recording.until_ms = self.recording.until_ms.max(self.sim.now_ms());
        }
    }

    fn apply(&mut self, action: &Action) -> Result<()> {
        let sim = &mut self.sim;
        match action {
            Action::Fault(fault) => sim.act(fault.clone()),
            Action::Produce(spec) => sim.produce(spec).map(|_| ()),
            Action::StartProducer(spec) => sim.start_workload(spec).map(|_| ()),
            Action::StopProducer(client) => sim.stop_workload(*client),
            Action::AddMember(spec) => sim.add_group_consumer(spec.to_config()?).map(|_| ()),
            Action::RemoveMember { client, graceful } => sim.remove_group_consumer(*client, *graceful),
            Action::DropMessage(message) => sim.drop_in_flight(message),
            Action::DelayMessage { message, by_ms } => sim.delay_in_flight(message, *by_ms),
        }
    }

    /// Takes an action now. If the run had a recorded future (after a seek back), that future
    /// is dropped: this is a fork. On error nothing changes.
    pub fn act(&mut self, action: Action) -> Result<()> {
        if self.recording.steps.len() >= RECORDING_STEPS_MAX {
            return Err(Error::new(
                ErrorCode::ThrottlingQuotaExceeded,
                format!("a recording holds at most {RECORDING_STEPS_MAX} actions"),
            ));
        }
        self.apply(&action)?;
        self.recording.steps.truncate(self.next_step);
        self.recording.steps.push(Step { at_event: self.sim.events(), at_ms: self.sim.now_ms(), action });
        self.next_step = self.recording.steps.len();
        self.recording.until_event = self.sim.events();
        self.recording.until_ms = self.sim.now_ms();
        Ok(())
    }

    /// Applies the recorded actions due at this point.
    fn apply_due(&mut self) -> Result<()> {
        while let Some(step) = self.recording.steps.get(self.next_step) {
            if step.at_event > self.sim.events() {
                break;
            }
            // The action was taken after `at_event` events, at `at_ms`. If this run passed that
            // event, or its next event comes before `at_ms` (or its clock is past it), the spec
            // is not the one the action was recorded under (an edited export): refuse rather than
            // run on without the rest of the script.
            let now_ms = self.sim.now_ms();
            let fits = step.at_event == self.sim.events()
                && step.at_ms >= now_ms
                && self.sim.next_event_ms().is_none_or(|next_ms| next_ms > step.at_ms || step.at_ms == now_ms);
            if !fits {
                return Err(Error::new(
                    ErrorCode::InvalidRequest,
                    format!(
                        "{MISALIGNED}: recorded action {} ({:?}) was taken at event {} at {} ms, but this \
                         spec's run is at event {} at {now_ms} ms there",
                        self.next_step,
                        step.action,
                        step.at_event,
                        step.at_ms,
                        self.sim.events()
                    ),
                ));
            }
            let step = step.clone();
            if now_ms < step.at_ms {
                self.sim.run_until(step.at_ms);
            }
            self.apply(&step.action).map_err(|error| {
                Error::new(
                    error.code,
                    format!("replaying {:?} at event {}: {}", step.action, step.at_event, error.message),
                )
            })?;
            self.next_step += 1;
        }
        Ok(())
    }

    /// Processes one event (after the recorded actions due first). `false` when nothing is
    /// left to do.
    pub fn step(&mut self) -> Result<bool> {
        self.apply_due()?;
        let stepped = self.sim.step();
        self.apply_due()?;
        self.note_progress();
        Ok(stepped)
    }

    /// Advances virtual time by `duration_ms`, replaying recorded actions on the way.
    pub fn run_for(&mut self, duration_ms: u64) -> Result<()> {
        self.run_for_bounded(duration_ms, u64::MAX).map(|_| ())
    }

    /// [`Session::run_for`], processing at most `events_max` events: `false` when it stopped
    /// there, short of `duration_ms` (a frame's work stays bounded however busy the cluster).
    pub fn run_for_bounded(&mut self, duration_ms: u64, events_max: u64) -> Result<bool> {
        let until_ms = self.sim.now_ms() + duration_ms;
        let budget_end = self.sim.events().saturating_add(events_max);
        loop {
            self.apply_due()?;
            let due_ms = self
                .recording
                .steps
                .get(self.next_step)
                .filter(|step| step.at_event == self.sim.events())
                .map(|step| step.at_ms);
            if due_ms.is_some_and(|at_ms| at_ms <= until_ms) {
                continue;
            }
            if self.sim.next_event_ms().is_none_or(|next_ms| next_ms > until_ms) {
                break;
            }
            if self.sim.events() >= budget_end {
                self.note_progress();
                return Ok(false);
            }
            if !self.sim.step() {
                break;
            }
        }
        self.sim.run_until(until_ms);
        self.note_progress();
        Ok(true)
    }

    /// Goes to the point where `event` events had been processed: back by replaying from the
    /// start, forward by running (recorded actions included).
    pub fn seek(&mut self, event: u64) -> Result<()> {
        if event < self.sim.events() {
            self.sim = Sim::from_spec(&self.recording.spec)?;
            self.next_step = 0;
        }
        loop {
            self.apply_due()?;
            if self.sim.events() >= event || !self.sim.step() {
                break;
            }
        }
        self.note_progress();
        Ok(())
    }

    /// The clients' history of this run up to now, for Jepsen's checkers (replayed in a fresh
    /// simulation that records it; this session is unchanged).
    pub fn history(&self) -> Result<super::history::History> {
        let recording = self.recording_now();
        recording.validate()?;
        let mut sim = Sim::from_spec(&recording.spec)?;
        sim.record_history();
        let mut replay = Session { recording, sim, next_step: 0 };
        let until_event = replay.recording.until_event;
        replay.seek(until_event)?;
        Ok(replay.sim.history.take().map(|history| *history).unwrap_or_default())
    }

    /// Replays this run to now in a fresh simulation, ends it there (heal, restart, settle for
    /// `settle_ms`) and returns the end-of-run checks. This session is unchanged.
    pub fn final_report(&self, settle_ms: u64) -> Result<CheckReport> {
        Ok(Session::replay(self.recording_now())?.into_final_report(settle_ms))
    }

    /// Ends this run (heal, restart, settle for `settle_ms`) and returns the end-of-run checks.
    #[must_use]
    pub fn into_final_report(mut self, settle_ms: u64) -> CheckReport {
        self.sim.finish(settle_ms).report
    }

    /// Ends this run (heal, restart, settle for `settle_ms`) and returns the finished
    /// simulation, to ask about single writes ([`Sim::write_survived`]).
    #[must_use]
    pub fn into_finished(mut self, settle_ms: u64) -> Sim {
        self.sim.finish(settle_ms);
        self.sim
    }
}
