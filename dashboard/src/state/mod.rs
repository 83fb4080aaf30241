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
use rill_core::sim::session::{Action as SimAction, Recording, Session, MISALIGNED};
use rill_core::sim::spec::{AcksSpec, ClusterSpec, Snapshot};
use rill_core::sim::trace::TraceKind;
use rill_core::sim::InFlight;
use yew::Reducible;

use crate::scenarios::{self, Scenario};
use crate::{bisect, form, metrics};

mod experiments;
mod twin;
pub use experiments::{spec_change, Comparison, Fork, Side, Variation};
pub use twin::{Diff, DiffRow, Fate, Twin, TwinView, DIFF_ROWS_MAX};

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
    /// Play a second run on the same scrubber: this run under a variation, or (`None`) the run
    /// before the last fork.
    Twin(Option<Variation>),
    /// Close the second run.
    CloseTwin,
    /// Run the end-of-run checks on a copy of the run so far.
    CheckNow,
    /// Find when this lost write's loss became inevitable.
    Bisect(LostWrite),
    /// Go back to the run before the last fork.
    Undo,
    /// Pause at guided scenarios' chapters, or play through.
    SetPace(bool),
    /// What a click on a message in flight does: drop it (`None`) or hold it back this long.
    SetMessageClick(Option<u64>),
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
    twin: Option<Rc<Twin>>,
    /// The second run at this run's time, and the two compared record by record.
    pub twin_view: Option<Rc<TwinView>>,
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
    /// What a click on a message in flight does: drop it (`None`) or hold it back this long.
    pub message_delay_ms: Option<u64>,
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
        SimAction::DelayMessage { message, by_ms } => format!(
            "hold the {} from broker {} to broker {} (sent at {} ms) back {by_ms} ms by hand",
            message.api, message.from, message.to, message.sent_ms
        ),
    }
}

/// Which trace events the event log shows, and how.
fn digest(kind: &TraceKind) -> Option<Tone> {
    match kind {
        TraceKind::Fault(_) | TraceKind::Delayed { .. } => Some(Tone::Fault),
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
            Event::IsrChanged { .. } | Event::IsrChangeProposed { .. } | Event::ReplicasChanged { .. } => {
                Some(Tone::Isr)
            }
            Event::Truncated { .. } | Event::TruncatedToHighWatermark { .. } | Event::LostUnflushed { .. } => {
                Some(Tone::Loss)
            }
            Event::ProduceFailed { .. } => Some(Tone::Error),
            Event::BrokerRegistered { .. }
            | Event::BrokerFenced { .. }
            | Event::BrokerUnfenced { .. }
            | Event::BecameFollower { .. }
            | Event::LogCleaned { .. }
            | Event::RecordsDeleted { .. } => Some(Tone::Info),
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
            twin: None,
            twin_view: None,
            final_report: None,
            no_return: None,
            plot: Rc::default(),
            counters: metrics::Counters::default(),
            fork: None,
            chapter: None,
            pace: true,
            message_delay_ms: None,
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
        if let Some(twin) = &self.twin {
            match twin.view_at(&self.session.borrow()) {
                Ok(view) => self.twin_view = Some(Rc::new(view)),
                Err(error) => self.error = Some(format!("the second run: {error}")),
            }
        }
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
        self.twin = None;
        self.twin_view = None;
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

    /// This run's client history so far in Jepsen's shape (`history.edn`), and what Jepsen's
    /// lost-write rule finds in it, in words.
    pub fn jepsen_history(&self) -> rill_core::error::Result<(String, String)> {
        let history = self.session.borrow().history()?;
        Ok((history.to_edn(), crate::history::summary(&history)))
    }

    /// The second run for [`Action::Twin`], at this run's time.
    fn twin_of(&self, variation: Option<Variation>) -> Result<Twin, String> {
        let session = self.session.borrow();
        let now_ms = session.sim().now_ms();
        let (label, twin) = match variation {
            Some(variation) => {
                // The whole run, its recorded future included, under the variation.
                let varied = variation.apply(session.recording());
                let (twin, _skipped) =
                    Session::replay_with_spec(&varied, varied.spec.clone()).map_err(|error| error.to_string())?;
                (variation.describe(), twin)
            }
            None => {
                let fork =
                    self.fork.as_ref().ok_or("INVALID_REQUEST: this run is not a fork: there is no run before it")?;
                let twin = Session::at_start(fork.before.clone()).map_err(|error| error.to_string())?;
                (format!("the run before the fork ({})", fork.what), twin)
            }
        };
        Twin::new(label, twin, now_ms).map_err(|error| error.to_string())
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
            Action::SetMessageClick(delay_ms) => next.message_delay_ms = delay_ms,
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
            Action::Load(recording, scenario, at) => {
                let loaded = match load(recording.clone(), at) {
                    Ok(session) => Ok((session, scenario.as_deref().and_then(scenarios::find), None)),
                    Err(error) if error.message.starts_with(MISALIGNED) => {
                        // An edited export: its actions are kept, at the same times, and the run
                        // says so (a fork of what was on screen, which Undo returns to).
                        let fork = next.fork_from(format!(
                            "imported run with an edited spec: its {} action(s) replayed at the same times",
                            recording.steps.len()
                        ));
                        Session::replay_with_spec(&recording, recording.spec.clone())
                            .map(|(session, _skipped)| (session, None, Some(fork)))
                    }
                    Err(error) => Err(error),
                };
                match loaded {
                    Ok((session, scenario, fork)) => {
                        next.replace(session);
                        next.scenario = scenario;
                        next.fork = fork;
                        next.playing = false;
                        next.error = None;
                    }
                    Err(error) => next.error = Some(format!("could not load the run: {error}")),
                }
            }
            Action::Compare(variation) => match next.compare_with(&variation) {
                Ok(comparison) => next.compare = Some(Rc::new(comparison)),
                Err(error) => next.error = Some(error.to_string()),
            },
            Action::CloseCompare => next.compare = None,
            Action::Twin(variation) => match next.twin_of(variation) {
                Ok(twin) => {
                    next.twin = Some(Rc::new(twin));
                    next.error = None;
                }
                Err(error) => next.error = Some(error),
            },
            Action::CloseTwin => {
                next.twin = None;
                next.twin_view = None;
            }
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
    let back = twin::seek_session_time(&mut state.session.borrow_mut(), at_ms)?;
    if back {
        state.restart_trace();
    }
    Ok(())
}

#[cfg(test)]
mod lesson_tests;
#[cfg(test)]
mod tests;
