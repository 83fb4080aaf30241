//! The dashboard's state: a pure reducer over a simulation [`Session`] (no `web_sys` here).
//!
//! The simulation moves only when an [`Action`] is dispatched: `Tick` from the animation-frame
//! hook, `Step`, `Seek`, `Do` (a fault or client action, which the session records), loading
//! a scenario or a shared run. Everything drawn comes from [`View`], rebuilt after each action.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use rill_core::event::Event;
use rill_core::sim::checker::{CheckReport, LostWrite};
use rill_core::sim::session::{Action as SimAction, Recording, Session};
use rill_core::sim::spec::{AcksSpec, ClusterSpec, Snapshot};
use rill_core::sim::trace::TraceKind;
use rill_core::sim::InFlight;
use yew::Reducible;

use crate::scenarios::{self, Scenario};
use crate::{bisect, form, metrics};

/// Newest records of each replica the view copies (the partition view draws 16 offsets).
pub const RECORDS_PER_REPLICA: usize = 24;
/// Event-log lines kept (a limit on everything).
pub const LINES_MAX: usize = 400;
/// Key events (faults and losses) kept once they scroll out of the log.
pub const PINNED_MAX: usize = 60;
/// Longest wall-clock gap one frame advances (a background tab should not run minutes at once).
pub const FRAME_GAP_MAX_MS: f64 = 100.0;
/// Settle time of the end-of-run checks.
pub const SETTLE_MS: u64 = 30_000;
/// Speeds offered (virtual ms per wall ms).
pub const SPEEDS: &[f64] = &[0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0];
/// Most simulation events one animation frame processes (~10 ms of WebAssembly), so the page
/// answers clicks at every speed however busy the cluster gets.
pub const EVENTS_PER_FRAME_MAX: u64 = 3_000;
/// The last chapter of every guided scenario.
pub const END_OF_SCENARIO: &str =
    "The end of the scenario: the lesson above is what it showed. Drag the timeline back to look \
     again, change one setting, or act in the past to fork it.";
/// Frames in a row that hit [`EVENTS_PER_FRAME_MAX`] before the speed is lowered.
pub const FRAMES_BEHIND_MAX: u32 = 5;

/// How an event-log line is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// A fault or an operator action.
    Fault,
    /// Leadership.
    Leader,
    /// ISR changes.
    Isr,
    /// Data lost or truncated.
    Loss,
    /// A client saw an error.
    Error,
    /// Consumer groups.
    Group,
    /// Anything else.
    Info,
}

/// One line of the event log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Trace index.
    pub index: u64,
    /// Virtual time.
    pub time_ms: u64,
    /// Plain words.
    pub text: String,
    /// Colour.
    pub tone: Tone,
    /// How many like it were folded into this line (1: just itself).
    pub repeats: u32,
    /// Virtual time of the last of them.
    pub last_ms: u64,
}

/// Lines looked back at when folding a repeat (a rejection and a client error alternate).
const FOLD_WINDOW: usize = 4;

/// What makes two lines "the same again": the text, with numbers ignored for client errors
/// (record numbers and offsets differ from one rejected record to the next) and for the
/// cleaner's passes (every second on every replica).
fn fold_key(tone: Tone, text: &str) -> String {
    if tone != Tone::Error && !text.contains(" cleaned ") {
        return text.to_owned();
    }
    let mut key = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !key.ends_with('#') {
                key.push('#');
            }
        } else {
            key.push(c);
        }
    }
    key
}

/// What the components draw.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    /// The cluster now.
    pub snapshot: Snapshot,
    /// Messages between brokers.
    pub in_flight: Vec<InFlight>,
    /// Producer workloads: client, topic, sent, left.
    pub workloads: Vec<(u32, String, u64, u64)>,
    /// Furthest event reached (the timeline's end).
    pub head_event: u64,
    /// Recorded actions: (at event, at ms, what), for the timeline.
    pub steps: Vec<(u64, u64, String)>,
    /// The spec of this run.
    pub spec: ClusterSpec,
    /// The whole run, the recorded future included (for sharing: a link or an export made
    /// mid-scenario keeps the rest of the script).
    pub recording: Recording,
}

/// A config change to compare against (same seed, same actions).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Variation {
    /// Override every producer's acks (wire value).
    pub acks: Option<i16>,
    /// Override every topic's `min.insync.replicas`.
    pub min_insync_replicas: Option<i32>,
    /// Override every topic's `unclean.leader.election.enable`.
    pub unclean: Option<bool>,
}

impl Variation {
    /// Plain words.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(acks) = self.acks {
            parts.push(format!("acks={}", if acks == -1 { "all".to_owned() } else { acks.to_string() }));
        }
        if let Some(min_isr) = self.min_insync_replicas {
            parts.push(format!("min.insync.replicas={min_isr}"));
        }
        if let Some(unclean) = self.unclean {
            parts.push(format!("unclean.leader.election.enable={unclean}"));
        }
        if parts.is_empty() {
            "the same config".to_owned()
        } else {
            parts.join(", ")
        }
    }

    /// The recording with this variation applied.
    #[must_use]
    pub fn apply(&self, recording: &Recording) -> Recording {
        let mut recording = recording.clone();
        for topic in &mut recording.spec.topics {
            if let Some(min_isr) = self.min_insync_replicas {
                topic.min_insync_replicas = min_isr;
            }
            if let Some(unclean) = self.unclean {
                topic.unclean_leader_election = unclean;
            }
        }
        if let Some(acks) = self.acks {
            for producer in &mut recording.spec.producers {
                producer.acks = Some(AcksSpec::Number(acks));
                producer.enable_idempotence = acks == -1;
            }
            for step in &mut recording.steps {
                match &mut step.action {
                    SimAction::Produce(spec) => spec.acks = Some(AcksSpec::Number(acks)),
                    SimAction::StartProducer(spec) => {
                        spec.acks = Some(AcksSpec::Number(acks));
                        spec.enable_idempotence = acks == -1;
                    }
                    _ => {}
                }
            }
        }
        recording
    }
}

/// A run changed from the one before it (an action that dropped a recorded future, or a
/// config change): what changed, and enough to go back.
#[derive(Clone, Debug)]
pub struct Fork {
    /// What changed, in words.
    pub what: String,
    /// Virtual time of the change.
    pub at_ms: u64,
    before: Recording,
    before_event: u64,
    before_scenario: Option<&'static Scenario>,
    previous: Option<Rc<Fork>>,
}

/// What a config change changed, in Kafka's names ("the same config" if nothing).
#[must_use]
pub fn spec_change(before: &ClusterSpec, after: &ClusterSpec) -> String {
    let mut parts = Vec::new();
    let mut differ = |name: &str, a: String, b: String| {
        if a != b {
            parts.push(format!("{name} {a} → {b}"));
        }
    };
    differ("brokers", before.brokers.to_string(), after.brokers.to_string());
    differ("seed", before.seed.to_string(), after.seed.to_string());
    if let (Some(a), Some(b)) = (before.topics.first(), after.topics.first()) {
        differ("partitions", a.partitions.to_string(), b.partitions.to_string());
        differ("replication.factor", format!("{:?}", a.replication_factor), format!("{:?}", b.replication_factor));
        differ("min.insync.replicas", a.min_insync_replicas.to_string(), b.min_insync_replicas.to_string());
        differ(
            "unclean.leader.election.enable",
            a.unclean_leader_election.to_string(),
            b.unclean_leader_election.to_string(),
        );
    }
    let flush = |spec: &ClusterSpec| {
        spec.broker_configs.get("log.flush.interval.messages").cloned().unwrap_or_else(|| "default".to_owned())
    };
    differ("log.flush.interval.messages", flush(before), flush(after));
    if parts.is_empty() {
        "the same config".to_owned()
    } else {
        parts.join(", ")
    }
}

/// One side of a comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Side {
    /// Its config in words.
    pub label: String,
    /// End-of-run checks (after healing and settling).
    pub report: CheckReport,
    /// Acknowledged writes lost, as found live up to now.
    pub lost: Vec<LostWrite>,
    /// Actions that did not apply under this config.
    pub skipped: usize,
}

/// The same seed and actions under two configs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// This run.
    pub a: Side,
    /// The variation.
    pub b: Side,
}

/// Everything the reducer can do.
#[derive(Clone, Debug)]
pub enum Action {
    /// An animation frame at this wall-clock time.
    Tick(f64),
    /// Start or stop playing.
    SetPlaying(bool),
    /// Process one event.
    Step,
    /// Virtual ms per wall ms.
    SetSpeed(f64),
    /// Go to the point after this many events.
    Seek(u64),
    /// Go to the point at this virtual time.
    SeekTime(u64),
    /// A fault or client action (recorded; in the past it forks the run).
    Do(SimAction),
    /// Load a guided scenario.
    LoadScenario(&'static str),
    /// A new run of this spec: with the recorded actions replayed (`true`) or none.
    Configure(ClusterSpec, bool),
    /// Load a shared or imported run (and the scenario it came from), at a position (events
    /// processed; `None`: where the run had got to).
    Load(Recording, Option<String>, Option<u64>),
    /// Compare this run with a variation of it.
    Compare(Variation),
    /// Close the comparison.
    CloseCompare,
    /// Run the end-of-run checks on a copy of the run so far.
    CheckNow,
    /// Find when this lost write's loss became inevitable.
    Bisect(LostWrite),
    /// Go back to the run before the last fork.
    Undo,
    /// Pause at guided scenarios' chapters, or play through.
    SetPace(bool),
    /// Dismiss the error banner.
    DismissError,
    /// Show an error found outside the reducer (a bad link or import).
    Fail(String),
}

/// The dashboard state. Cloning is cheap (the session is shared and replaced, never copied).
#[derive(Clone, Debug)]
pub struct State {
    session: Rc<RefCell<Session>>,
    /// What to draw.
    pub view: Rc<View>,
    /// The event log (newest last).
    pub lines: Rc<VecDeque<Line>>,
    /// Faults and losses that scrolled out of the event log (oldest first), kept in view.
    pub pinned: Rc<VecDeque<Line>>,
    trace_cursor: u64,
    /// The guided scenario loaded, if any.
    pub scenario: Option<&'static Scenario>,
    /// Playing.
    pub playing: bool,
    /// Virtual ms per wall ms.
    pub speed: f64,
    last_frame_ms: Option<f64>,
    carry_ms: f64,
    frames_behind: u32,
    /// The last action's error.
    pub error: Option<String>,
    /// Something the last action changed that the learner must know (not an error).
    pub notice: Option<String>,
    /// The open comparison.
    pub compare: Option<Rc<Comparison>>,
    /// The last end-of-run check and the virtual time it covers.
    pub final_report: Option<Rc<(u64, CheckReport)>>,
    /// The last point-of-no-return search.
    pub no_return: Option<Rc<bisect::NoReturn>>,
    /// Kafka's metrics over the run.
    pub plot: Rc<metrics::Plot>,
    /// Set while this run is a fork of another (shown as a badge, undoable).
    pub fork: Option<Rc<Fork>>,
    /// The chapter playing paused at: (virtual time, what to look at).
    pub chapter: Option<(u64, &'static str)>,
    /// Pause at a guided scenario's chapters (on by default).
    pub pace: bool,
    counters: metrics::Counters,
    /// Bumped by every action (drives the frame loop).
    pub version: u64,
}

impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version && Rc::ptr_eq(&self.session, &other.session)
    }
}

fn view_of(session: &Session) -> View {
    let sim = session.sim();
    View {
        snapshot: sim.snapshot_with(RECORDS_PER_REPLICA),
        in_flight: sim.in_flight(),
        workloads: sim.workloads(),
        head_event: session.head_event(),
        steps: session
            .recording()
            .steps
            .iter()
            .map(|step| (step.at_event, step.at_ms, describe(&step.action)))
            .collect(),
        spec: session.recording().spec.clone(),
        recording: session.recording().clone(),
    }
}

/// An action in plain words.
#[must_use]
pub fn describe(action: &SimAction) -> String {
    let acks = |acks: &Option<AcksSpec>| match acks {
        None => "all".to_owned(),
        Some(AcksSpec::Number(-1)) => "all".to_owned(),
        Some(AcksSpec::Number(n)) => n.to_string(),
        Some(AcksSpec::Text(text)) => text.clone(),
    };
    match action {
        SimAction::Fault(fault) => fault.to_string(),
        SimAction::Produce(spec) => format!(
            "produce {}={} to {} (acks={})",
            spec.key.as_deref().unwrap_or("null"),
            spec.value.as_deref().unwrap_or("null"),
            spec.topic,
            acks(&spec.acks)
        ),
        SimAction::StartProducer(spec) => format!(
            "start a producer: {} records/s to {} (acks={})",
            1_000 / spec.interval_ms.max(1),
            spec.topic,
            acks(&spec.acks)
        ),
        SimAction::StopProducer(client) => format!("stop producer {client}"),
        SimAction::AddMember(spec) => format!("add a consumer to group {}", spec.group_id),
        SimAction::RemoveMember { client, graceful: true } => format!("consumer {client} leaves its group"),
        SimAction::RemoveMember { client, graceful: false } => format!("consumer {client} stops without leaving"),
        SimAction::DropMessage(message) => format!(
            "drop the {} from broker {} to broker {} (sent at {} ms) by hand",
            message.api, message.from, message.to, message.sent_ms
        ),
    }
}

/// Which trace events the event log shows, and how.
fn digest(kind: &TraceKind) -> Option<Tone> {
    match kind {
        TraceKind::Fault(_) => Some(Tone::Fault),
        TraceKind::Violation { .. } => Some(Tone::Loss),
        TraceKind::Produced { result: Err(_), .. } => Some(Tone::Error),
        // A consumer with no committed offset starting where auto.offset.reset says is normal
        // (Kafka logs it at INFO); losing its position is not.
        TraceKind::ConsumerReset { from_offset, to_offset, .. } if *from_offset < 0 && *to_offset >= 0 => {
            Some(Tone::Group)
        }
        TraceKind::ConsumerReset { .. } => Some(Tone::Error),
        TraceKind::Assigned { .. } => Some(Tone::Group),
        TraceKind::Node { event, .. } => match event {
            Event::LeaderChanged { .. } | Event::BecameLeader { .. } => Some(Tone::Leader),
            Event::IsrChanged { .. } | Event::IsrChangeProposed { .. } => Some(Tone::Isr),
            Event::Truncated { .. } | Event::LostUnflushed { .. } => Some(Tone::Loss),
            Event::ProduceFailed { .. } => Some(Tone::Error),
            Event::BrokerRegistered { .. }
            | Event::BrokerFenced { .. }
            | Event::BrokerUnfenced { .. }
            | Event::BecameFollower { .. }
            | Event::LogCleaned { .. } => Some(Tone::Info),
            _ => None,
        },
        _ => None,
    }
}

impl State {
    /// What going back to this run needs, for a fork described by `what`.
    fn fork_from(&self, what: String) -> Rc<Fork> {
        let session = self.session.borrow();
        Rc::new(Fork {
            what,
            at_ms: session.sim().now_ms(),
            before: session.recording().clone(),
            before_event: session.sim().events(),
            before_scenario: self.scenario,
            previous: self.fork.clone(),
        })
    }

    /// The last frame hit the event budget: the cluster is busier than this speed allows.
    /// After a few such frames in a row, drop to the next lower speed and say so.
    fn fell_behind(&mut self) {
        self.carry_ms = 0.0;
        self.frames_behind += 1;
        if self.frames_behind < FRAMES_BEHIND_MAX {
            return;
        }
        self.frames_behind = 0;
        if let Some(lower) = SPEEDS.iter().rev().copied().find(|speed| *speed < self.speed) {
            self.notice = Some(format!(
                "Slowed from {}× to {lower}×: at {}× this run needs more than {EVENTS_PER_FRAME_MAX} simulation events \
                 per frame, more than the page can process and still answer at once.",
                self.speed, self.speed
            ));
            self.speed = lower;
        }
    }

    /// A state running `session`.
    fn with_session(session: Session, scenario: Option<&'static Scenario>) -> State {
        let view = Rc::new(view_of(&session));
        let mut state = State {
            session: Rc::new(RefCell::new(session)),
            view,
            lines: Rc::new(VecDeque::new()),
            pinned: Rc::new(VecDeque::new()),
            trace_cursor: 0,
            scenario,
            playing: false,
            speed: 1.0,
            last_frame_ms: None,
            carry_ms: 0.0,
            frames_behind: 0,
            error: None,
            notice: None,
            compare: None,
            final_report: None,
            no_return: None,
            plot: Rc::default(),
            counters: metrics::Counters::default(),
            fork: None,
            chapter: None,
            pace: true,
            version: 0,
        };
        state.read_trace();
        state
    }

    /// The first guided scenario, at its start.
    #[must_use]
    pub fn initial() -> State {
        let scenario = &scenarios::SCENARIOS[0];
        let session = scenario
            .recording()
            .and_then(Session::at_start)
            .unwrap_or_else(|_| Session::new(ClusterSpec::default()).expect("the default spec is valid"));
        State::with_session(session, Some(scenario))
    }

    /// Virtual time now.
    #[must_use]
    pub fn now_ms(&self) -> u64 {
        self.view.snapshot.now_ms
    }

    /// Events processed so far.
    #[must_use]
    pub fn events(&self) -> u64 {
        self.view.snapshot.events
    }

    /// Appends the new interesting trace events to the log.
    fn read_trace(&mut self) {
        let session = self.session.borrow();
        let trace = session.sim().trace();
        let first = trace.partition_point(|event| event.index < self.trace_cursor);
        let mut lines = (*self.lines).clone();
        for event in &trace[first..] {
            match &event.kind {
                TraceKind::Node { event: Event::IsrChanged { old_isr, new_isr, .. }, .. } => {
                    self.counters.isr_shrinks += u64::from(new_isr.len() < old_isr.len());
                    self.counters.isr_expands += u64::from(new_isr.len() > old_isr.len());
                }
                TraceKind::Node { event: Event::ProduceFailed { .. }, .. } => {
                    self.counters.failed_produce_requests += 1
                }
                _ => {}
            }
            if let Some(tone) = digest(&event.kind) {
                let text = event.to_string();
                // Drop the "#index t=..ms " prefix: the log shows time in its own column.
                let text = text.split_once("ms ").map_or(text.clone(), |(_, rest)| rest.to_owned());
                let key = fold_key(tone, &text);
                let start = lines.len().saturating_sub(FOLD_WINDOW);
                let same =
                    lines.range_mut(start..).rev().find(|line| line.tone == tone && fold_key(tone, &line.text) == key);
                if let Some(line) = same {
                    line.repeats += 1;
                    line.last_ms = event.time_ms;
                    continue;
                }
                lines.push_back(Line {
                    index: event.index,
                    time_ms: event.time_ms,
                    text,
                    tone,
                    repeats: 1,
                    last_ms: event.time_ms,
                });
                if lines.len() > LINES_MAX {
                    if let Some(old) = lines.pop_front().filter(|old| matches!(old.tone, Tone::Fault | Tone::Loss)) {
                        let pinned = Rc::make_mut(&mut self.pinned);
                        pinned.push_back(old);
                        if pinned.len() > PINNED_MAX {
                            pinned.pop_front();
                        }
                    }
                }
            }
        }
        self.trace_cursor = trace.last().map_or(self.trace_cursor, |event| event.index + 1);
        self.lines = Rc::new(lines);
    }

    fn refresh(&mut self) {
        self.view = Rc::new(view_of(&self.session.borrow()));
        self.read_trace();
        let mut plot = (*self.plot).clone();
        plot.sample(&self.view.snapshot, self.counters);
        if plot != *self.plot {
            self.plot = Rc::new(plot);
        }
    }

    /// The trace is read again from the start (a replay): the log and the plot restart.
    fn restart_trace(&mut self) {
        self.lines = Rc::new(VecDeque::new());
        self.pinned = Rc::new(VecDeque::new());
        self.trace_cursor = 0;
        self.plot = Rc::default();
        self.counters = metrics::Counters::default();
    }

    fn replace(&mut self, session: Session) {
        self.session = Rc::new(RefCell::new(session));
        self.restart_trace();
        self.compare = None;
        self.final_report = None;
        self.no_return = None;
        self.last_frame_ms = None;
        self.notice = None;
        self.chapter = None;
    }

    fn rewound(&mut self) {
        // A seek back replays from the start: the log restarts from the kept trace.
        self.restart_trace();
    }

    fn result(&mut self, result: rill_core::error::Result<()>) {
        self.error = result.err().map(|error| error.to_string());
    }

    /// The whole run — the recorded future included — replayed under `spec` (at its end), and
    /// a notice if that moved the first topic away from brokers the recorded faults hit or
    /// some actions no longer apply.
    fn reconfigured(&self, spec: ClusterSpec) -> rill_core::error::Result<(Session, Option<String>)> {
        let recording = self.session.borrow().recording().clone();
        let (session, skipped) = Session::replay_with_spec(&recording, spec)?;
        let faulted: Vec<i32> = recording
            .steps
            .iter()
            .filter_map(|step| match &step.action {
                SimAction::Fault(fault) => Some(fault.brokers()),
                _ => None,
            })
            .flatten()
            .collect();
        // Placement does not change during a run: compare where each run placed the topic.
        let mut before = self.view.snapshot.partitions.clone();
        if before.is_empty() {
            before = Session::replay(recording)?.sim().snapshot_with(0).partitions;
        }
        let after = session.sim().snapshot_with(0).partitions;
        let mut notes: Vec<String> = form::placement_change(&before, &after, &faulted).into_iter().collect();
        if skipped > 0 {
            notes.push(format!("{skipped} recorded action(s) did not apply."));
        }
        Ok((session, (!notes.is_empty()).then(|| notes.join(" "))))
    }

    fn compare_with(&self, variation: &Variation) -> rill_core::error::Result<Comparison> {
        let recording = self.session.borrow().recording_now();
        let a_session = Session::replay(recording.clone())?;
        let a_lost = a_session.sim().report().lost_writes.clone();
        let a = Side {
            label: "this run".to_owned(),
            report: a_session.into_final_report(SETTLE_MS),
            lost: a_lost,
            skipped: 0,
        };
        let varied = variation.apply(&recording);
        let (b_session, skipped) = Session::replay_with_spec(&varied, varied.spec.clone())?;
        let b_lost = b_session.sim().report().lost_writes.clone();
        let b =
            Side { label: variation.describe(), report: b_session.into_final_report(SETTLE_MS), lost: b_lost, skipped };
        Ok(Comparison { a, b })
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        next.version += 1;
        match action {
            Action::Tick(wall_ms) => {
                if !next.playing {
                    next.last_frame_ms = None;
                    return Rc::new(next);
                }
                let gap_ms = next.last_frame_ms.map_or(0.0, |last| (wall_ms - last).clamp(0.0, FRAME_GAP_MAX_MS));
                next.last_frame_ms = Some(wall_ms);
                let virtual_ms = gap_ms * next.speed + next.carry_ms;
                let whole_ms = virtual_ms.floor();
                next.carry_ms = virtual_ms - whole_ms;
                // Bounded above by FRAME_GAP_MAX_MS × the fastest speed.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let mut step_ms = whole_ms as u64;
                // A guided scenario pauses at its chapters and at its end.
                let now_ms = next.now_ms();
                let stop = next.scenario.filter(|_| next.pace).and_then(|scenario| {
                    let end = (scenario.duration_ms, END_OF_SCENARIO);
                    scenario
                        .chapters
                        .iter()
                        .copied()
                        .chain([end])
                        .find(|(at_ms, _)| *at_ms > now_ms && *at_ms <= now_ms + step_ms)
                });
                if let Some((at_ms, _)) = stop {
                    step_ms = at_ms - now_ms;
                }
                let result = next.session.borrow_mut().run_for_bounded(step_ms, EVENTS_PER_FRAME_MAX);
                if let Some(chapter) = stop.filter(|(at_ms, _)| next.session.borrow().sim().now_ms() >= *at_ms) {
                    next.playing = false;
                    next.last_frame_ms = None;
                    next.chapter = Some(chapter);
                }
                match result {
                    Ok(true) => next.frames_behind = 0,
                    Ok(false) => next.fell_behind(),
                    Err(error) => next.error = Some(error.to_string()),
                }
            }
            Action::SetPlaying(playing) => {
                next.playing = playing;
                if playing {
                    next.chapter = None;
                }
                next.last_frame_ms = None;
            }
            Action::Step => {
                next.playing = false;
                let result = next.session.borrow_mut().step().map(|_| ());
                next.result(result);
            }
            Action::SetSpeed(speed) => {
                if SPEEDS.contains(&speed) {
                    next.speed = speed;
                }
            }
            Action::Seek(event) => {
                let back = event < next.events();
                let result = next.session.borrow_mut().seek(event);
                if back {
                    next.rewound();
                }
                next.result(result);
            }
            Action::SeekTime(at_ms) => {
                let result = seek_time(&mut next, at_ms);
                next.result(result);
            }
            Action::Do(action) => {
                // Acting with a recorded future ahead (a scenario's script, or after a seek
                // back) forks the run: remember how to go back.
                let forks = next.view.head_event > next.events();
                let before = forks.then(|| next.fork_from(format!("acted in the past: {}", describe(&action))));
                let result = next.session.borrow_mut().act(action);
                if result.is_ok() && before.is_some() {
                    next.fork = before;
                }
                next.result(result);
            }
            Action::SetPace(pace) => next.pace = pace,
            Action::Undo => {
                if let Some(fork) = next.fork.clone() {
                    let restored = Session::at_start(fork.before.clone()).and_then(|mut session| {
                        session.seek(fork.before_event)?;
                        Ok(session)
                    });
                    match restored {
                        Ok(session) => {
                            next.replace(session);
                            next.scenario = fork.before_scenario;
                            next.fork = fork.previous.clone();
                            next.error = None;
                        }
                        Err(error) => next.error = Some(error.to_string()),
                    }
                }
            }
            Action::LoadScenario(id) => {
                match scenarios::find(id).map(|s| (s, s.recording().and_then(Session::at_start))) {
                    Some((scenario, Ok(session))) => {
                        next.replace(session);
                        next.scenario = Some(scenario);
                        next.fork = None;
                        next.playing = false;
                        next.error = None;
                    }
                    Some((_, Err(error))) => next.error = Some(error.to_string()),
                    None => next.error = Some(format!("INVALID_REQUEST: there is no scenario {id:?}")),
                }
            }
            Action::Configure(spec, keep_actions) => {
                let now_ms = next.now_ms();
                let change = spec_change(&next.view.spec, &spec);
                let fork = next.fork_from(format!(
                    "config changed: {change} ({})",
                    if keep_actions { "same actions replayed" } else { "fresh run" }
                ));
                let built = if keep_actions { next.reconfigured(spec) } else { Session::new(spec).map(|s| (s, None)) };
                match built {
                    Ok((session, note)) => {
                        next.replace(session);
                        next.scenario = None;
                        next.error = None;
                        next.fork = Some(fork);
                        // The same moment of the new run, with the rest of the script ahead.
                        if keep_actions {
                            let result = seek_time(&mut next, now_ms);
                            next.result(result);
                        }
                        next.notice = note;
                    }
                    Err(error) => next.error = Some(error.to_string()),
                }
            }
            Action::Load(recording, scenario, at) => match load(recording, at) {
                Ok(session) => {
                    next.replace(session);
                    next.scenario = scenario.as_deref().and_then(scenarios::find);
                    next.fork = None;
                    next.playing = false;
                    next.error = None;
                }
                Err(error) => next.error = Some(format!("could not load the run: {error}")),
            },
            Action::Compare(variation) => match next.compare_with(&variation) {
                Ok(comparison) => next.compare = Some(Rc::new(comparison)),
                Err(error) => next.error = Some(error.to_string()),
            },
            Action::CloseCompare => next.compare = None,
            Action::CheckNow => {
                let report = next.session.borrow().final_report(SETTLE_MS);
                match report {
                    Ok(report) => next.final_report = Some(Rc::new((next.now_ms(), report))),
                    Err(error) => next.error = Some(error.to_string()),
                }
            }
            Action::Bisect(write) => {
                let recording = next.session.borrow().recording().clone();
                match bisect::point_of_no_return(&recording, &write) {
                    Ok(found) => next.no_return = Some(Rc::new(found)),
                    Err(error) => next.error = Some(error),
                }
            }
            Action::DismissError => {
                next.error = None;
                next.notice = None;
            }
            Action::Fail(error) => next.error = Some(error),
        }
        next.refresh();
        Rc::new(next)
    }
}

/// A shared run: at `at` events with its recorded future still ahead, or replayed to its end.
fn load(recording: Recording, at: Option<u64>) -> rill_core::error::Result<Session> {
    match at {
        Some(at) => {
            let mut session = Session::at_start(recording)?;
            session.seek(at)?;
            Ok(session)
        }
        None => Session::replay(recording),
    }
}

/// Seeks to the first point at or after `at_ms` (by event count, found by replaying).
fn seek_time(state: &mut State, at_ms: u64) -> rill_core::error::Result<()> {
    let mut session = state.session.borrow_mut();
    if at_ms < session.sim().now_ms() {
        session.seek(0)?;
        drop(session);
        state.restart_trace();
        session = state.session.borrow_mut();
    }
    while session.sim().now_ms() < at_ms && session.sim().next_event_ms().is_some_and(|next_ms| next_ms <= at_ms) {
        if !session.step()? {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rill_core::sim::Fault;

    fn reduce(state: Rc<State>, action: Action) -> Rc<State> {
        state.reduce(action)
    }

    #[test]
    fn playing_advances_virtual_time_by_wall_time_times_speed() {
        let mut state = Rc::new(State::initial());
        let start_ms = state.now_ms();
        assert!(start_ms < 10, "brokers register in the first milliseconds");
        state = reduce(state, Action::SetPlaying(true));
        state = reduce(state, Action::SetSpeed(10.0));
        state = reduce(state, Action::Tick(1_000.0));
        state = reduce(state, Action::Tick(1_050.0));
        assert_eq!(state.now_ms(), start_ms + 500);
        // A long pause (a background tab) advances at most FRAME_GAP_MAX_MS of wall time.
        state = reduce(state, Action::Tick(60_000.0));
        assert_eq!(state.now_ms(), start_ms + 1_500);
        state = reduce(state, Action::SetPlaying(false));
        state = reduce(state, Action::Tick(60_100.0));
        assert_eq!(state.now_ms(), start_ms + 1_500, "paused: ticks do nothing");
    }

    #[test]
    fn the_acks_1_scenario_flags_lost_writes_and_acks_all_does_not() {
        let mut state = Rc::new(State::initial());
        let head = state.view.head_event;
        state = reduce(state, Action::Seek(head));
        let report = &state.view.snapshot.report;
        assert!(report.lost_live.acks_1 >= 15, "{report:?}");
        assert!(report.lost_writes.iter().all(|lost| lost.cause.as_deref().unwrap_or("").contains("broker 1")));
        assert!(state.lines.iter().any(|line| line.tone == Tone::Leader));
        state = reduce(state, Action::LoadScenario("acks-all-keeps-data"));
        let head = state.view.head_event;
        state = reduce(state, Action::Seek(head));
        assert_eq!(state.view.snapshot.report.lost_live.total(), 0);
        assert!(state.view.snapshot.report.acknowledged.acks_all > 100, "{:?}", state.view.snapshot.report);
    }

    #[test]
    fn every_scenario_builds_and_runs_clean() {
        for scenario in scenarios::SCENARIOS {
            let recording = scenario.recording().unwrap_or_else(|error| panic!("{}: {error}", scenario.id));
            assert!(!recording.steps.is_empty(), "{}", scenario.id);
            let session = Session::replay(recording).unwrap();
            let live = session.sim().report().clone();
            let report = session.into_final_report(SETTLE_MS);
            assert!(report.violations.is_empty(), "{}: {:?}", scenario.id, report.violations);
            // Each scenario shows what it promises.
            match scenario.id {
                "acks1-leader-crash" => assert!(live.lost_live.acks_1 >= 15, "{live:?}"),
                "unclean-election" => assert!(report.unclean_elections == 1 && report.lost.acks_all > 0, "{report:?}"),
                "retries-duplicate" => assert!(live.duplicates_live > 0 && report.duplicates > 0, "{report:?}"),
                "idempotent-retries" => assert!(live.duplicates_live == 0 && report.duplicates == 0, "{report:?}"),
                "power-loss" => assert!(report.lost.acks_all > 0 && live.lost_live.acks_all > 0, "{report:?}"),
                "acks-all-keeps-data" | "slow-follower" | "isolated-leader" | "process-crash" => {
                    assert_eq!(report.lost.total(), 0, "{}: {report:?}", scenario.id);
                }
                _ => {}
            }
        }
    }

    #[test]
    fn acting_in_the_past_forks_and_seeking_replays() {
        let mut state = Rc::new(State::initial());
        state = reduce(state, Action::SeekTime(10_000));
        let at_10s = state.view.snapshot.trace_hash.clone();
        state = reduce(state, Action::SeekTime(25_000));
        state = reduce(state, Action::SeekTime(10_000));
        assert_eq!(state.view.snapshot.trace_hash, at_10s, "seeking back replays the same run");
        let steps_before = state.view.steps.len();
        state = reduce(state, Action::Do(SimAction::Fault(Fault::Crash(2))));
        assert!(state.error.is_none(), "{:?}", state.error);
        assert!(state.view.steps.len() < steps_before + 1, "the recorded future was dropped");
        assert_eq!(state.view.head_event, state.events());
    }

    #[test]
    fn bad_actions_show_an_error_and_change_nothing() {
        let state = Rc::new(State::initial());
        let hash = state.view.snapshot.trace_hash.clone();
        let state = reduce(state, Action::Do(SimAction::Fault(Fault::Restart(1))));
        assert!(state.error.as_deref().unwrap_or("").starts_with("INVALID_REQUEST"), "{:?}", state.error);
        assert_eq!(state.view.snapshot.trace_hash, hash);
        let state = reduce(state, Action::DismissError);
        assert!(state.error.is_none());
    }

    #[test]
    fn comparing_acks_1_with_acks_all_shows_what_was_lost() {
        let mut state = Rc::new(State::initial());
        let head = state.view.head_event;
        state = reduce(state, Action::Seek(head));
        state =
            reduce(state, Action::Compare(Variation { acks: Some(-1), min_insync_replicas: Some(2), unclean: None }));
        let comparison = state.compare.clone().expect("a comparison");
        assert!(comparison.a.report.lost.acks_1 >= 15, "{:?}", comparison.a.report);
        assert_eq!(comparison.b.report.lost.total(), 0, "{:?}", comparison.b.report);
        assert_eq!(comparison.b.label, "acks=all, min.insync.replicas=2");
    }

    /// Plays `frames` animation frames of 100 ms, going on past chapters.
    fn play_frames(mut state: Rc<State>, frames: u32) -> Rc<State> {
        state = reduce(state, Action::SetPace(false));
        state = reduce(state, Action::SetPlaying(true));
        for frame in 0..frames {
            state = reduce(state, Action::Tick(f64::from(frame) * 100.0));
        }
        state
    }

    fn to_end(state: Rc<State>) -> Rc<State> {
        let head = state.view.head_event;
        reduce(state, Action::Seek(head))
    }

    #[test]
    fn changing_min_insync_replicas_replays_the_same_story_on_the_same_brokers() {
        // Issue 17 (1): "Apply, replay the same actions" used to re-place the topic on brokers
        // the scripted faults never touch, and 0 writes were lost. Applied at the start, it
        // keeps the whole script; applied mid-run, it stays at the same moment.
        let mut state = Rc::new(State::initial());
        let mut form = form::ConfigForm::of(&state.view.spec);
        form.min_insync_replicas = "2".to_owned();
        let spec = form.apply(&state.view.spec).unwrap();
        state = reduce(state, Action::Configure(spec, true));
        assert!(state.error.is_none() && state.notice.is_none(), "{:?} {:?}", state.error, state.notice);
        assert!(state.now_ms() < 100, "still at the start: {}", state.now_ms());
        state = to_end(state);
        let partition = &state.view.snapshot.partitions[0];
        assert_eq!(partition.replicas, vec![1, 2, 3], "the topic stays where the faults are");
        assert!(
            state.view.snapshot.report.lost_live.acks_1 >= 15,
            "acks=1 still loses: {:?}",
            state.view.snapshot.report
        );
        // A change that must move the topic says so, naming the faults it escapes.
        let mut form = form::ConfigForm::of(&state.view.spec);
        form.brokers = "6".to_owned();
        form.replication_factor = "2".to_owned();
        form.min_insync_replicas = "1".to_owned();
        let spec = form.apply(&state.view.spec).unwrap();
        state = reduce(state, Action::SeekTime(3_000));
        state = reduce(state, Action::Configure(spec, true));
        assert_eq!(state.now_ms(), 3_000, "the same moment of the new run");
        let replicas = state.view.snapshot.partitions[0].replicas.clone();
        if replicas.contains(&1) {
            assert!(state.notice.as_deref().is_some_and(|n| n.contains("The topic moved")), "{:?}", state.notice);
        } else {
            let notice = state.notice.clone().expect("a moved topic is announced");
            assert!(notice.contains("faults on brokers 1, 2 no longer touch its replicas"), "{notice}");
        }
    }

    #[test]
    fn acks_0_losses_show_live_and_match_the_end_of_run_check() {
        // Issue 17 (2): with acks=0 the panel said "no acknowledged write lost" while the
        // end-of-run check found losses.
        let recording = scenarios::SCENARIOS[0].recording().unwrap();
        let varied = Variation { acks: Some(0), ..Variation::default() }.apply(&recording);
        let mut state = reduce(Rc::new(State::initial()), Action::Load(varied, None, None));
        state = to_end(state);
        let live = state.view.snapshot.report.clone();
        assert!(live.lost_live.acks_0 >= 15, "{live:?}");
        state = reduce(state, Action::CheckNow);
        let end = state.final_report.clone().expect("a check");
        assert_eq!(live.lost_live.acks_0, end.1.lost.acks_0, "live and end-of-run agree");
        assert!(live.lost_writes.iter().any(|lost| !lost.landed), "sends to the crashed leader never landed");
    }

    #[test]
    fn a_link_made_mid_scenario_keeps_the_rest_of_the_script() {
        // Issue 17 (3): a link made at 3 s dropped the crash at 4 s.
        let mut state = reduce(Rc::new(State::initial()), Action::SeekTime(3_000));
        let (hash, events) = (state.view.snapshot.trace_hash.clone(), state.events());
        let link =
            crate::link::parse(&crate::link::hash(&state.view.recording, events, Some("acks1-leader-crash"))).unwrap();
        let recording = serde_json::from_str(link.run.as_deref().unwrap()).unwrap();
        state = reduce(Rc::new(State::initial()), Action::Load(recording, link.scenario, link.at));
        assert!(state.error.is_none(), "{:?}", state.error);
        assert_eq!((state.events(), state.view.snapshot.trace_hash.clone()), (events, hash), "the same moment");
        assert_eq!(state.scenario.map(|s| s.id), Some("acks1-leader-crash"));
        assert_eq!(state.view.snapshot.report.lost_live.total(), 0, "nothing lost yet at 3 s");
        state = reduce(state, Action::SetSpeed(20.0));
        state = play_frames(state, 8);
        assert!(state.now_ms() > 10_000, "{}", state.now_ms());
        assert!(
            state.view.snapshot.report.lost_live.acks_1 >= 15,
            "the crash still happens: {:?}",
            state.view.snapshot.report
        );
    }

    #[test]
    fn a_consumer_that_stops_without_leaving_stays_a_member_until_its_session_expires() {
        // Issue 17 (4): consumer 4002 vanished from the members table at 30 s though it owned
        // its partitions until its session expired (10 s later).
        let mut state = reduce(Rc::new(State::initial()), Action::LoadScenario("group-rebalance"));
        let member = |state: &State| {
            state.view.snapshot.groups.iter().flat_map(|g| g.members.iter()).find(|m| m.client == 4_002).cloned()
        };
        state = reduce(state, Action::SeekTime(29_000));
        let before = member(&state).expect("4002 is a member at 29 s");
        assert!(!before.stopped && !before.partitions.is_empty(), "{before:?}");
        state = reduce(state, Action::SeekTime(35_000));
        let stopped = member(&state).expect("4002 is still a member at 35 s");
        assert!(stopped.stopped, "{stopped:?}");
        assert_eq!(stopped.partitions, before.partitions, "it still owns its partitions");
        let expires = stopped.session_expires_ms.expect("a session");
        assert!((35_000..=41_000).contains(&expires), "expires {expires}");
        state = reduce(state, Action::SeekTime(expires + 2_000));
        assert!(member(&state).is_none(), "gone once the session expired");
    }

    #[test]
    fn the_event_log_and_the_losses_tell_the_true_cause() {
        // Issue 17 (5): a first-time offset reset was a red error; the unclean-election loss
        // blamed the crash; the loss cited a trace index the header does not show.
        let mut state = to_end(reduce(Rc::new(State::initial()), Action::LoadScenario("group-rebalance")));
        let starts: Vec<&Line> = state.lines.iter().filter(|l| l.text.contains("has no committed offset")).collect();
        assert!(!starts.is_empty() && starts.iter().all(|l| l.tone == Tone::Group), "{starts:?}");
        assert!(!state.lines.iter().any(|l| l.tone == Tone::Error && l.text.contains("position -1")));
        state = to_end(reduce(state, Action::LoadScenario("unclean-election")));
        let lost = &state.view.snapshot.report.lost_writes;
        assert!(!lost.is_empty());
        for write in lost {
            let cause = write.cause.as_deref().unwrap_or_default();
            assert!(cause.starts_with("the unclean election of broker"), "{cause}");
        }
        state = to_end(reduce(state, Action::LoadScenario("acks1-leader-crash")));
        let crash =
            state.view.steps.iter().find(|(_, _, what)| what.starts_with("kill -9 broker 1")).expect("the crash");
        let cause = state.view.snapshot.report.lost_writes[0].cause.clone().unwrap_or_default();
        assert!(cause.ends_with(&format!("(event {})", crash.0)), "{cause} cites the header's event count {}", crash.0);
    }

    #[test]
    fn a_busy_cluster_at_20x_keeps_frames_bounded_and_slows_down_saying_so() {
        // Issue 17 (7): 5 brokers x 12 partitions under load with a controller crash at 20x
        // froze the tab. Every frame now does bounded work; the speed drops and says why.
        let mut state = reduce(Rc::new(State::initial()), Action::Configure(scenarios::load_spec(), false));
        state = reduce(state, Action::Do(SimAction::StartProducer(scenarios::load_workload())));
        state = reduce(state, Action::SeekTime(3_000));
        let controller = state.view.snapshot.brokers.iter().find(|b| b.controller).expect("a controller").id;
        state = reduce(state, Action::Do(SimAction::Fault(Fault::Crash(controller))));
        state = reduce(state, Action::SetSpeed(20.0));
        state = reduce(state, Action::SetPlaying(true));
        let mut slowest = 0;
        for frame in 0..60 {
            let before = state.events();
            state = reduce(state, Action::Tick(f64::from(frame) * 100.0));
            assert!(state.error.is_none(), "{:?}", state.error);
            slowest = slowest.max(state.events() - before);
        }
        assert!(slowest <= EVENTS_PER_FRAME_MAX, "{slowest}");
        assert!(state.speed < 20.0, "the speed was lowered: {}", state.speed);
        let notice = state.notice.clone().expect("the learner is told");
        assert!(notice.starts_with("Slowed from") && notice.contains(&format!(" to {}×:", state.speed)), "{notice}");
        assert!(state.now_ms() > 3_000, "time still moves: {}", state.now_ms());
    }

    #[test]
    fn repeated_rejections_fold_into_one_line_with_a_count() {
        // Issue 17: the event log flooded with one line per rejected record.
        let mut state = to_end(reduce(Rc::new(State::initial()), Action::LoadScenario("not-enough-replicas")));
        let errors: Vec<&Line> = state.lines.iter().filter(|l| l.tone == Tone::Error).collect();
        assert!(errors.iter().any(|l| l.repeats > 10), "{errors:?}");
        assert!(errors.len() < 12, "folded: {} error lines", errors.len());
        let folded: u32 = errors.iter().map(|l| l.repeats).sum();
        assert!(folded > 50, "every rejection is still counted: {folded}");
        // Different events are never folded: every leader change keeps its own line.
        state = to_end(reduce(state, Action::LoadScenario("back-to-back-failover")));
        let elections: Vec<&Line> = state.lines.iter().filter(|l| l.text.contains("elected leader")).collect();
        assert_eq!(elections.len(), 4, "{elections:?}");
        assert!(elections.iter().all(|l| l.repeats == 1), "{elections:?}");
    }

    /// Every record (key, value) in the current leader's log of `orders-0`.
    fn leader_records(session: &Session) -> Vec<(i64, Option<String>, Option<String>)> {
        use rill_core::log::ReadLimit;
        let tp = rill_core::sim::Sim::tp("orders", 0);
        let snapshot = session.sim().snapshot_with(0);
        let leader = snapshot.partitions.iter().find(|p| p.topic == "orders").and_then(|p| p.leader).expect("a leader");
        let log = session.sim().broker(leader).and_then(|b| b.log(&tp)).expect("the leader's log");
        let text = |bytes: &Option<Vec<u8>>| bytes.as_ref().map(|b| String::from_utf8_lossy(b).into_owned());
        let mut records = Vec::new();
        let mut offset = log.log_start_offset();
        while offset < log.log_end_offset() {
            let read = log.read(offset, usize::MAX, ReadLimit::LogEnd).unwrap();
            for batch in &read.batches {
                for record in batch.records() {
                    let record = record.unwrap();
                    records.push((
                        record.offset,
                        text(&record.record.key.as_deref().map(<[u8]>::to_vec)),
                        text(&record.record.value.as_deref().map(<[u8]>::to_vec)),
                    ));
                }
                offset = batch.next_offset();
            }
        }
        records
    }

    #[test]
    fn the_compaction_retention_and_idempotence_scenarios_show_their_lessons() {
        let replay = |id: &str| Session::replay(scenarios::find(id).unwrap().recording().unwrap()).unwrap();
        // Compaction: gaps in offsets, customer-42 and its tombstone gone, every k0..k15 kept.
        let session = replay("compaction");
        let records = leader_records(&session);
        let written = session.sim().report().acknowledged.acks_all;
        assert!((records.len() as u64) < written / 2, "compacted: {} of {written} records", records.len());
        let kept =
            records.iter().position(|(_, key, _)| key.as_deref() == Some("customer-7")).expect("customer-7 kept");
        assert!(records[kept + 1].0 > records[kept].0 + 100, "a gap of cleaned offsets after it: {records:?}");
        assert!(records.iter().all(|(_, key, _)| key.as_deref() != Some("customer-42")), "{records:?}");
        for key in 0..16 {
            let key = format!("k{key}");
            assert!(records.iter().any(|(_, k, v)| k.as_deref() == Some(&key) && v.is_some()), "{key} kept");
        }
        // Retention: the log start moved past the group's commit; the new member was reset.
        let session = replay("retention");
        let records = leader_records(&session);
        assert!(records.first().is_some_and(|first| first.0 > 200), "old segments deleted: {:?}", records.first());
        let resets: Vec<_> = session
            .sim()
            .trace()
            .iter()
            .filter_map(|event| match &event.kind {
                TraceKind::ConsumerReset { client: 4_001, from_offset, to_offset, .. } if *from_offset >= 0 => {
                    Some((*from_offset, *to_offset))
                }
                _ => None,
            })
            .collect();
        assert!(resets.iter().any(|(from, to)| to > from), "the new member skipped deleted records: {resets:?}");
        // Idempotence: retries happened, no record is in the log twice.
        let session = replay("idempotent-retries");
        let retried = session
            .sim()
            .trace()
            .iter()
            .filter(|event| matches!(event.kind, TraceKind::Produced { result: Ok(_), attempts: 2.., .. }))
            .count();
        assert!(retried > 0, "some batches were retried");
        assert_eq!(session.sim().report().duplicates_live, 0);
    }

    #[test]
    fn clients_and_timers_explain_every_stall() {
        // Issue 17: the countdowns behind each stall (request.timeout.ms, broker session,
        // replica.lag.time.max.ms) are in the snapshot the page draws.
        let mut state = reduce(Rc::new(State::initial()), Action::LoadScenario("acks-all-keeps-data"));
        state = reduce(state, Action::SeekTime(6_000));
        let snapshot = &state.view.snapshot;
        let producer = snapshot.producers.iter().find(|p| p.acks == -1).expect("the acks=all producer");
        assert!(producer.in_flight > 0, "writes wait for the cut-off followers: {producer:?}");
        let deadline = producer.request_deadline_ms.expect("a request in flight");
        assert!(deadline > snapshot.now_ms && deadline <= snapshot.now_ms + 30_000, "{producer:?}");
        // Broker 1 was killed at 4 s: the controller fences it when its session runs out.
        let broker_1 = snapshot.brokers.iter().find(|b| b.id == 1).unwrap();
        let fence_at = broker_1.session_deadline_ms.expect("not fenced yet");
        assert!(fence_at > snapshot.now_ms && fence_at <= 4_000 + 9_000, "{fence_at}");
        // Later the producer's count shows the retries that got through.
        state = to_end(state);
        let producer = state.view.snapshot.producers.iter().find(|p| p.acks == -1).unwrap();
        assert!(producer.retried > 0 && producer.acknowledged == 150 && producer.failed == 0, "{producer:?}");

        // A follower cut off from its leader: how long it has been behind, before the ISR drops it.
        let mut state = reduce(state, Action::LoadScenario("slow-follower"));
        state = reduce(state, Action::SeekTime(20_000));
        let leader = state.view.snapshot.brokers.iter().find(|b| b.id == 1).unwrap();
        let view = &leader.replicas.iter().find(|r| r.view.tp.topic.as_ref() == "orders").unwrap().view;
        let follower = view.followers.iter().find(|f| f.broker == 3).expect("broker 3 follows");
        let lag_ms = state.now_ms() - follower.last_caught_up_ms;
        assert!((15_000..=18_500).contains(&lag_ms), "behind since the cut at 2 s: {lag_ms}");
        assert!(state.view.snapshot.partitions[0].isr.contains(&3), "still in the ISR until 30 s");
    }

    #[test]
    fn kafkas_metrics_are_plotted_under_kafkas_names() {
        // Issue 17: the metrics an operator's Grafana shows, over the run.
        let mut state = reduce(Rc::new(State::initial()), Action::LoadScenario("not-enough-replicas"));
        state = reduce(state, Action::SetSpeed(20.0));
        // 2 s of the run per frame (20x), past the restarts at 25 s.
        state = play_frames(state, 30);
        assert!(state.now_ms() > 30_000, "{}", state.now_ms());
        fn series(state: &State, name: &str) -> Vec<(u64, f64)> {
            let series = state.plot.series.iter().find(|s| s.metric.name == name);
            series.unwrap_or_else(|| panic!("{name}")).points.iter().copied().collect()
        }
        let plotted = state.clone();
        let series_now = |name: &str| series(&plotted, name);
        let max = |name: &str| series_now(name).iter().map(|p| p.1).fold(0.0_f64, f64::max);
        assert!(series_now("kafka_server_replicamanager_underreplicatedpartitions").len() > 20);
        assert!(max("kafka_server_replicamanager_isrshrinks_total") > 0.0, "brokers 2 and 3 left the ISR");
        assert!(max("kafka_server_replicamanager_isrexpands_total") > 0.0, "and came back");
        assert_eq!(max("kafka_server_replicamanager_underreplicatedpartitions"), 1.0);
        assert!(max("kafka_server_brokertopicmetrics_failedproducerequests_total") > 0.0, "NOT_ENOUGH_REPLICAS");
        assert!(max("kafka_server_brokertopicmetrics_messagesin_total") > 0.0);
        assert_eq!(max("kafka_controller_kafkacontroller_activecontrollercount"), 1.0);
        assert_eq!(max("kafka_controller_kafkacontroller_offlinepartitionscount"), 0.0);
        // A seek back replays: the plot restarts.
        state = reduce(state, Action::SeekTime(1_000));
        assert!(series(&state, "kafka_server_replicamanager_underreplicatedpartitions").len() <= 1);
    }

    #[test]
    fn a_fork_wears_a_badge_and_can_be_undone() {
        // Issue 17: "change one thing" experiments are marked and reversible.
        let mut state = reduce(Rc::new(State::initial()), Action::SeekTime(3_000));
        let (hash, events) = (state.view.snapshot.trace_hash.clone(), state.events());
        assert!(state.fork.is_none());
        state = reduce(state, Action::Do(SimAction::Fault(Fault::Crash(3))));
        let fork = state.fork.clone().expect("acting inside a scenario's script forks it");
        assert!(fork.what.starts_with("acted in the past: crash broker 3"), "{}", fork.what);
        let mut form = form::ConfigForm::of(&state.view.spec);
        form.min_insync_replicas = "2".to_owned();
        let spec = form.apply(&state.view.spec).unwrap();
        state = reduce(state, Action::Configure(spec, true));
        let fork = state.fork.clone().expect("a config change is a fork");
        assert_eq!(fork.what, "config changed: min.insync.replicas 1 → 2 (same actions replayed)");
        // Undo twice: back to the scenario at 3 s, exactly.
        state = reduce(state, Action::Undo);
        assert!(state.fork.as_ref().is_some_and(|f| f.what.starts_with("acted in the past")));
        state = reduce(state, Action::Undo);
        assert!(state.fork.is_none());
        assert_eq!(state.scenario.map(|s| s.id), Some("acks1-leader-crash"));
        assert_eq!((state.view.snapshot.trace_hash.clone(), state.events()), (hash, events));
        state = to_end(state);
        assert!(state.view.snapshot.report.lost_live.acks_1 >= 15, "the script is whole again");
    }

    #[test]
    fn faults_and_losses_stay_pinned_when_the_log_scrolls() {
        // Issue 17: pinned key events; the log's line limit never hides the fault.
        let mut state = reduce(Rc::new(State::initial()), Action::Configure(scenarios::load_spec(), false));
        state = reduce(state, Action::Do(SimAction::StartProducer(scenarios::load_workload())));
        // Broker 2 goes down and up every few seconds: elections and ISR changes on 12 partitions.
        for round in 0..100_u64 {
            let at_ms = 2_000 + round * 4_000;
            state = reduce(state, Action::SeekTime(at_ms));
            state = reduce(state, Action::Do(SimAction::Fault(Fault::Kill(2))));
            state = reduce(state, Action::SeekTime(at_ms + 2_000));
            state = reduce(state, Action::Do(SimAction::Fault(Fault::Restart(2))));
        }
        assert_eq!(state.lines.len(), LINES_MAX, "the log filled up");
        assert!(!state.lines.iter().any(|l| l.time_ms <= 2_000), "the first kill scrolled out of the log");
        let first = state.pinned.front().expect("pinned key events");
        assert!(
            first.tone == Tone::Fault && first.text.contains("kill -9 broker 2") && first.time_ms == 2_000,
            "{first:?}"
        );
    }

    #[test]
    fn a_guided_scenario_pauses_at_its_chapters_and_at_its_end() {
        // Issue 17: paced scenarios that stop at the key moments and have a clear end.
        let mut state = reduce(Rc::new(State::initial()), Action::SetSpeed(20.0));
        let mut seen = Vec::new();
        let mut frame = 0.0;
        for _ in 0..10 {
            state = reduce(state, Action::SetPlaying(true));
            while state.playing {
                frame += 100.0;
                state = reduce(state, Action::Tick(frame));
            }
            let (at_ms, text) = state.chapter.expect("paused at a chapter");
            assert_eq!(state.now_ms(), at_ms, "paused exactly there");
            seen.push(at_ms);
            if text == END_OF_SCENARIO {
                break;
            }
        }
        assert_eq!(seen, vec![2_000, 4_100, 13_500, 21_000, 30_000]);
        // At 13.5 s the chapter says broker 2 leads: the view agrees.
        state = reduce(state, Action::SeekTime(13_500));
        assert_eq!(state.view.snapshot.partitions[0].leader, Some(2));
    }

    /// Plays `id` paced and returns the state at each pause (chapters, then the end).
    fn chapter_stops(id: &'static str) -> Vec<Rc<State>> {
        let mut state = reduce(Rc::new(State::initial()), Action::LoadScenario(id));
        state = reduce(state, Action::SetSpeed(20.0));
        let mut stops = Vec::new();
        let mut frame = 0.0;
        loop {
            state = reduce(state, Action::SetPlaying(true));
            while state.playing {
                frame += 100.0;
                state = reduce(state, Action::Tick(frame));
            }
            stops.push(state.clone());
            if state.chapter.is_none_or(|(_, text)| text == END_OF_SCENARIO) {
                return stops;
            }
        }
    }

    #[test]
    fn every_chapter_tells_what_the_cluster_shows_then() {
        for scenario in scenarios::SCENARIOS {
            let stops = chapter_stops(scenario.id);
            let times: Vec<u64> = stops.iter().map(|s| s.now_ms()).collect();
            let mut expected: Vec<u64> = scenario.chapters.iter().map(|c| c.0).collect();
            expected.push(scenario.duration_ms);
            assert_eq!(times, expected, "{}", scenario.id);
        }
        let isr = |state: &State| state.view.snapshot.partitions[0].isr.clone();
        let slow = chapter_stops("slow-follower");
        assert_eq!(isr(&slow[1]), vec![1, 2, 3], "still in the ISR at 25 s");
        assert_eq!(isr(&slow[2]), vec![1, 2], "left the ISR by 32.5 s");
        assert_eq!(isr(&slow[3]), vec![1, 2, 3], "back by 62.5 s");
        let unclean = chapter_stops("unclean-election");
        assert_eq!(isr(&unclean[0]), vec![1]);
        assert_eq!(unclean[2].view.snapshot.partitions[0].leader, Some(2));
        assert_eq!(unclean[2].view.snapshot.report.unclean_elections, 1);
        let group = chapter_stops("group-rebalance");
        let members = |state: &State| state.view.snapshot.groups[0].members.clone();
        assert_eq!(members(&group[0]).iter().map(|m| m.partitions.len()).collect::<Vec<_>>(), vec![6]);
        assert_eq!(members(&group[1]).iter().map(|m| m.partitions.len()).collect::<Vec<_>>(), vec![3, 3]);
        assert!(members(&group[3]).iter().any(|m| m.client == 4_002 && m.stopped));
        assert_eq!(group[4].view.snapshot.groups[0].generation_id, 5);
        assert_eq!(members(&group[4]).iter().map(|m| m.partitions.len()).collect::<Vec<_>>(), vec![6]);
    }

    #[test]
    fn a_message_in_flight_can_be_dropped_by_hand_and_the_run_replays() {
        // Issue 17: message-level control (RaftScope's), recorded like any action.
        let mut state = reduce(Rc::new(State::initial()), Action::SeekTime(1_500));
        for _ in 0..500 {
            if !state.view.in_flight.is_empty() {
                break;
            }
            state = reduce(state, Action::Step);
        }
        let message = state.view.in_flight.first().expect("messages on the wire").reference();
        state = reduce(state, Action::Do(SimAction::DropMessage(message.clone())));
        assert!(state.error.is_none(), "{:?}", state.error);
        assert!(state.fork.as_ref().is_some_and(|f| f.what.contains(&format!("drop the {}", message.api))));
        let session = state.session.borrow();
        let dropped = session.sim().trace().iter().rev().find_map(|event| match &event.kind {
            TraceKind::Dropped { api, reason: rill_core::sim::trace::DropReason::ByHand, .. } => Some(*api),
            _ => None,
        });
        assert_eq!(dropped, Some(message.api.as_str()), "the trace says who dropped it");
        drop(session);
        // Gone from the wire; dropping it again is refused in words.
        assert!(!state.view.in_flight.iter().any(|m| m.reference() == message));
        state = reduce(state, Action::Do(SimAction::DropMessage(message)));
        assert!(state.error.as_deref().is_some_and(|e| e.contains("is on the wire any more")), "{:?}", state.error);
        // The run (with the drop) replays exactly from a link.
        let (hash, events) = (state.view.snapshot.trace_hash.clone(), state.events());
        let link = crate::link::parse(&crate::link::hash(&state.view.recording, events, None)).unwrap();
        let recording = serde_json::from_str(link.run.as_deref().unwrap()).unwrap();
        let again = reduce(Rc::new(State::initial()), Action::Load(recording, None, link.at));
        assert_eq!((again.view.snapshot.trace_hash.clone(), again.events()), (hash, events));
    }
}
