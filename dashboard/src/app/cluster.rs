//! The cluster: brokers and the network with messages in flight, and every partition's replica
//! logs as offset cells (committed, above the HW, unflushed), LEO, HW, leader, epoch, ISR.

use rill_core::sim::spec::{PartitionSnapshot, Snapshot};

use super::*;

/// How long each log write waits when a broker's "Slow disk" button is pressed (the slow-disk
/// scenario's figure: acks=all then waits about this long for a slow follower).
const SLOW_DISK_MS: u64 = 400;

/// Lost offsets drawn per partition (the newest; the count covers them all).
const CELLS_LOST: usize = 16;

pub(super) fn status_class(status: BrokerStatus, fenced: bool) -> &'static str {
    match (status, fenced) {
        (BrokerStatus::Down, _) => "down",
        (BrokerStatus::Paused, _) => "paused",
        (BrokerStatus::Up, true) => "fenced",
        (BrokerStatus::Up, false) => "up",
    }
}

#[function_component(Cluster)]
pub(super) fn cluster(props: &Props) -> Html {
    let state = &props.state;
    let dispatch = &props.dispatch;
    let snapshot = &state.view.snapshot;
    let count = snapshot.brokers.len().max(1);
    let position = |id: i32| {
        let index = snapshot.brokers.iter().position(|b| b.id == id).unwrap_or(0);
        let angle = std::f64::consts::TAU * index as f64 / count as f64 - std::f64::consts::FRAC_PI_2;
        (150.0 + 105.0 * angle.cos(), 120.0 + 95.0 * angle.sin())
    };
    let cut = |a: i32, b: i32| snapshot.cut_links.iter().any(|(from, to)| (*from, *to) == (a, b));
    let mut links = Vec::new();
    for (i, a) in snapshot.brokers.iter().enumerate() {
        for b in snapshot.brokers.iter().skip(i + 1) {
            let (ab, ba) = (cut(a.id, b.id), cut(b.id, a.id));
            let ((x1, y1), (x2, y2)) = (position(a.id), position(b.id));
            let class = match (ab, ba) {
                (true, true) => "link cut",
                (true, false) | (false, true) => "link half-cut",
                _ => "link",
            };
            let title = match (ab, ba) {
                (true, true) => format!("link {} ⇄ {} cut both ways", a.id, b.id),
                (true, false) => format!("link {} → {} cut", a.id, b.id),
                (false, true) => format!("link {} → {} cut", b.id, a.id),
                _ => format!("link {} ⇄ {}", a.id, b.id),
            };
            links.push(html! {
                <line class={class} x1={format!("{x1:.1}")} y1={format!("{y1:.1}")} x2={format!("{x2:.1}")} y2={format!("{y2:.1}")}>
                    <title>{ title }</title>
                </line>
            });
        }
    }
    let now = snapshot.now_ms;
    let delay_ms = state.message_delay_ms;
    let click = match delay_ms {
        None => "drop it".to_owned(),
        Some(ms) => format!("hold it back {}", seconds(ms)),
    };
    let dots = state.view.in_flight.iter().rev().take(DOTS_MAX).map(|message| {
        let ((x1, y1), (x2, y2)) = (position(message.from), position(message.to));
        let span = message.deliver_ms.saturating_sub(message.sent_ms).max(1) as f64;
        let t = (now.saturating_sub(message.sent_ms) as f64 / span).clamp(0.0, 1.0);
        let (x, y) = (x1 + (x2 - x1) * t, y1 + (y2 - y1) * t);
        let class = match message.api {
            "Fetch" | "FetchResponse" => "dot fetch",
            "Produce" | "ProduceResponse" => "dot produce",
            _ => "dot control",
        };
        // A wider transparent target makes a moving dot clickable: click to drop it.
        html! {
            <g class="message" data-from={message.from.to_string()} data-to={message.to.to_string()} data-api={message.api}
                data-sent={message.sent_ms.to_string()} data-deliver={message.deliver_ms.to_string()}>
                <title>{ format!("{} from broker {} to broker {}, sent at {} — click to {click}", message.api, message.from, message.to, seconds(message.sent_ms)) }</title>
                <circle class={class} cx={format!("{x:.1}")} cy={format!("{y:.1}")} r="3" />
                <circle class="hit" cx={format!("{x:.1}")} cy={format!("{y:.1}")} r="8" />
            </g>
        }
    });
    // One listener for every dot (event delegation): the clicked message's reference is in its
    // data attributes, so a click drops exactly the message drawn, even while playing.
    let on_dot = dispatch.reform(move |event: MouseEvent| {
        let group =
            event.target_dyn_into::<web_sys::Element>().and_then(|target| target.closest("g.message").ok().flatten());
        let attribute = |name: &str| group.as_ref().and_then(|g| g.get_attribute(name));
        let number = |name: &str| attribute(name).and_then(|value| value.parse::<u64>().ok());
        match (
            number("data-from"),
            number("data-to"),
            attribute("data-api"),
            number("data-sent"),
            number("data-deliver"),
        ) {
            (Some(from), Some(to), Some(api), Some(sent_ms), Some(deliver_ms)) => {
                let message = MessageRef {
                    from: i32::try_from(from).unwrap_or(-1),
                    to: i32::try_from(to).unwrap_or(-1),
                    api,
                    sent_ms,
                    deliver_ms,
                };
                match delay_ms {
                    None => Action::Do(SimAction::DropMessage(message)),
                    Some(by_ms) => Action::Do(SimAction::DelayMessage { message, by_ms }),
                }
            }
            _ => Action::DismissError,
        }
    });
    let on_click_mode = dispatch.reform(|event: Event| Action::SetMessageClick(select_or_input(&event).parse().ok()));
    let nodes = snapshot.brokers.iter().map(|broker| {
        let (x, y) = position(broker.id);
        let class = format!("node {}", status_class(broker.status, broker.fenced));
        html! {
            <g class={class}>
                <circle cx={format!("{x:.1}")} cy={format!("{y:.1}")} r="22" />
                <text x={format!("{x:.1}")} y={format!("{:.1}", y + 5.0)} text-anchor="middle">{ broker.id }</text>
                if broker.controller {
                    <text class="badge" x={format!("{x:.1}")} y={format!("{:.1}", y - 27.0)} text-anchor="middle">{ "controller" }</text>
                }
            </g>
        }
    });
    let cards = snapshot.brokers.iter().map(|broker| {
        let id = broker.id;
        let status = status_class(broker.status, broker.fenced);
        let leads = snapshot.partitions.iter().filter(|p| p.leader == Some(id) && !p.topic.starts_with("__")).count();
        let isolated =
            snapshot.brokers.iter().filter(|b| b.id != id).all(|b| cut(id, b.id) && cut(b.id, id)) && count > 1;
        let toggle = match broker.status {
            BrokerStatus::Down => ("Restart", Fault::Restart(id)),
            _ => ("Power off", Fault::Crash(id)),
        };
        let kill = (broker.status != BrokerStatus::Down).then_some(("Kill -9", Fault::Kill(id)));
        let pause = match broker.status {
            BrokerStatus::Paused => Some(("Resume", Fault::Resume(id))),
            BrokerStatus::Up => Some(("Pause", Fault::Pause(id))),
            BrokerStatus::Down => None,
        };
        let net = if isolated { ("Reconnect", Fault::Reconnect(id)) } else { ("Isolate", Fault::Isolate(id)) };
        let disk = if broker.disk_delay_ms > 0 {
            ("Fast disk", Fault::SlowDisk { broker: id, ms: 0 })
        } else {
            ("Slow disk", Fault::SlowDisk { broker: id, ms: SLOW_DISK_MS })
        };
        let button = |(label, fault): (&'static str, Fault), name: &str| {
            html! {
                <button id={format!("{}-{id}", name)} aria-label={format!("{label} broker {id}")}
                    title={fault.to_string()}
                    onclick={dispatch.reform(move |_| Action::Do(SimAction::Fault(fault.clone())))}>{ label }</button>
            }
        };
        html! {
            <li class={format!("broker-card {status}")} id={format!("broker-{id}")}>
                <div class="card-title">
                    <strong>{ if broker.controller_only { format!("Controller {id}") } else { format!("Broker {id}") } }</strong>
                    <span class={format!("status {status}")}>{ status }</span>
                    if broker.controller { <span class="tag">{ "controller" }</span> }
                    else if snapshot.quorum.len() > 1 && snapshot.quorum.iter().any(|c| c.id == id) {
                        <span class="tag voter" title="a controller of the quorum, not the active one">{ "voter" }</span>
                    }
                </div>
                if broker.controller_only {
                    <div class="card-line" id={format!("controller-only-{id}")}>{ "controller only (process.roles=controller): no replicas" }</div>
                } else {
                <div class="card-line">
                    { format!("leads {leads} partition(s)") }
                    if let Some(rack) = &broker.rack { <span class="rack" id={format!("rack-{id}")}>{ format!(" · rack {rack}") }</span> }
                </div>
                }
                if broker.disk_delay_ms > 0 {
                    <div class="card-line timer" id={format!("disk-delay-{id}")}>
                        { format!("slow disk: each log write waits {} ms", broker.disk_delay_ms) }</div>
                }
                if let Some(at) = broker.session_deadline_ms.filter(|_| broker.status != BrokerStatus::Up || isolated) {
                    <div class="card-line timer" id={format!("session-{id}")}>
                        { format!("no heartbeats: fenced in {} (broker.session.timeout.ms)", seconds(at.saturating_sub(snapshot.now_ms))) }</div>
                }
                <div class="card-actions">
                    if let Some(kill) = kill { { button(kill, "kill") } }
                    { button(toggle, "crash") }
                    if let Some(pause) = pause { { button(pause, "pause") } }
                    { button(net, "isolate") }
                    if !broker.controller_only { { button(disk, "disk") } }
                </div>
            </li>
        }
    });
    html! {
        <section class="panel cluster" aria-label="Cluster">
            <h2>{ "Brokers and network" }</h2>
            <div class="cluster-body">
                <svg class="network" viewBox="0 0 300 240" role="img" aria-label="Brokers, links and messages in flight">
                    { for links }
                    { for nodes }
                    // Above the nodes: a message just sent sits on its sender and must stay clickable.
                    <g class="messages" onclick={on_dot}>{ for dots }</g>
                </svg>
                <ul class="broker-cards">{ for cards }</ul>
            </div>
            { quorum_table(snapshot) }
            <p class="legend">
                <span class="dot-key fetch"></span>{ "fetch " }
                <span class="dot-key produce"></span>{ "produce " }
                <span class="dot-key control"></span>{ "controller / group " }
                <span class="line-key"></span>{ "cut link · " }
                <label for="message-click">{ "click a message to " }</label>
                <select id="message-click" onchange={on_click_mode}>
                    { for [(None, "drop it"), (Some(1_000), "hold it back 1 s"), (Some(5_000), "hold it back 5 s")].into_iter().map(|(ms, label)| html! {
                        <option value={ms.map_or_else(|| "drop".to_owned(), |ms: u64| ms.to_string())} selected={ms == delay_ms}>{ label }</option>
                    }) }
                </select>
            </p>
        </section>
    }
}

/// The controller quorum as `kafka-metadata-quorum --describe --replication` shows it: each
/// voter's role, quorum epoch, metadata log end and high watermark, and the leader's view.
fn quorum_table(snapshot: &rill_core::sim::spec::Snapshot) -> Html {
    if snapshot.quorum.len() < 2 {
        // One controller: the broker cards' "controller" tag says it all.
        return Html::default();
    }
    let rows = snapshot.quorum.iter().map(|member| {
        let role = match member.role {
            None => "down".to_owned(),
            Some(role) if member.active => format!("{role:?} (active controller)"),
            Some(role) => format!("{role:?}"),
        };
        let class = if member.active {
            "active"
        } else if member.role.is_none() {
            "down"
        } else {
            ""
        };
        html! {
            <tr class={class} id={format!("quorum-{}", member.id)}>
                <td>{ member.id }</td>
                <td>{ role }</td>
                <td>{ member.epoch }</td>
                <td>{ member.leader.map_or("—".to_owned(), |l| l.to_string()) }</td>
                <td>{ member.log_start_offset }</td>
                <td>{ member.log_end_offset }</td>
                <td>{ member.high_watermark }</td>
                <td>{ member.fetched_offset.map_or("—".to_owned(), |o| o.to_string()) }</td>
            </tr>
        }
    });
    html! {
        <div class="quorum">
            <h3>{ format!("Controller quorum ({} voters, KRaft)", snapshot.quorum.len()) }</h3>
            <table id="quorum">
                <thead><tr>
                    <th>{ "node" }</th><th>{ "role" }</th><th title="the leader epoch of the metadata log">{ "quorum epoch" }</th>
                    <th>{ "leader" }</th>
                    <th title="its newest snapshot ends here: the records before it left the metadata log (KIP-630)">{ "snapshot" }</th>
                    <th title="metadata log end offset">{ "log end" }</th>
                    <th title="quorum high watermark: what a majority has">{ "HW" }</th>
                    <th title="how far the leader saw it fetch">{ "fetched" }</th>
                </tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
        </div>
    }
}

/// A cell's classes without allocating: colour by leader epoch, committed or not, flushed or not.
pub(super) fn cell_class(epoch: i32, committed: bool, unflushed: bool) -> &'static str {
    const CLASSES: [[&str; 4]; 6] = [
        ["cell e0 uncommitted", "cell e0 uncommitted unflushed", "cell e0 committed", "cell e0 committed unflushed"],
        ["cell e1 uncommitted", "cell e1 uncommitted unflushed", "cell e1 committed", "cell e1 committed unflushed"],
        ["cell e2 uncommitted", "cell e2 uncommitted unflushed", "cell e2 committed", "cell e2 committed unflushed"],
        ["cell e3 uncommitted", "cell e3 uncommitted unflushed", "cell e3 committed", "cell e3 committed unflushed"],
        ["cell e4 uncommitted", "cell e4 uncommitted unflushed", "cell e4 committed", "cell e4 committed unflushed"],
        ["cell e5 uncommitted", "cell e5 uncommitted unflushed", "cell e5 committed", "cell e5 committed unflushed"],
    ];
    let epoch = usize::try_from(epoch.rem_euclid(6)).unwrap_or(0);
    CLASSES[epoch][usize::from(committed) * 2 + usize::from(unflushed)]
}

fn replica_row(
    replica: Option<&ReplicaSnapshot>,
    timer: Option<String>,
    status: Option<BrokerStatus>,
    broker: i32,
    start: i64,
    leader: bool,
    in_isr: bool,
) -> Html {
    // No replica on a broker that is up: it has not learned of the partition yet (metadata
    // still on its way), which is not the same as being down.
    let note = match (replica, status) {
        (Some(r), _) => format!("LEO {} · HW {}", r.view.log_end_offset, r.view.high_watermark),
        (None, Some(BrokerStatus::Down) | None) => "broker down".to_owned(),
        (None, Some(BrokerStatus::Paused)) => "broker paused".to_owned(),
        (None, Some(BrokerStatus::Up)) => "not created yet (waiting for metadata)".to_owned(),
    };
    let label = html! {
        <span class="replica-label">
            <span class="replica-name">
                { format!("broker {broker}") }
                if leader { <span class="tag leader">{ "leader" }</span> }
                if !in_isr { <span class="tag out">{ "out of ISR" }</span> }
            </span>
            <span class="replica-note">{ note }</span>
            if let Some(timer) = timer { <span class="replica-note timer">{ timer }</span> }
        </span>
    };
    let Some(replica) = replica else {
        return html! { <div class="replica offline">{ label }</div> };
    };
    let view = &replica.view;
    let records = &replica.records;
    // A follower far behind: say where it is rather than draw a blank row.
    let behind = (view.log_end_offset < start).then(|| {
        html! { <span class="cell far-behind" title={format!("this replica's log ends at offset {}, before the offsets drawn", view.log_end_offset)}>
            { format!("…{}", view.log_end_offset) }</span> }
    });
    let cells = (start..start + CELLS).map(|offset| {
        if offset < view.log_start_offset || offset >= view.log_end_offset {
            return html! { <span class="cell empty"></span> };
        }
        let epoch = records.binary_search_by_key(&offset, |r| r.offset).ok().map_or(0, |i| records[i].leader_epoch);
        html! { <span class={cell_class(epoch, offset < view.high_watermark, offset >= view.flushed_offset)}>{ offset }</span> }
    });
    html! {
        <div class="replica">
            { label }
            <span class="cells">{ behind }{ for cells }</span>
        </div>
    }
}

/// A partition's replica on `broker`, if that broker is up and has it.
fn replica_on<'a>(snapshot: &'a Snapshot, partition: &PartitionSnapshot, broker: i32) -> Option<&'a ReplicaSnapshot> {
    snapshot.brokers.iter().find(|b| b.id == broker).and_then(|b| {
        b.replicas
            .iter()
            .find(|r| r.view.tp.topic.as_ref() == partition.topic && r.view.tp.partition == partition.partition)
    })
}

/// A partition's replica rows, each drawing the last [`CELLS`] offsets of its longest replica,
/// with `timer_of(broker)` under the broker's name.
pub(super) fn replica_rows(
    snapshot: &Snapshot,
    partition: &PartitionSnapshot,
    timer_of: impl Fn(i32) -> Option<String>,
) -> Html {
    let replica_of = |broker: i32| replica_on(snapshot, partition, broker);
    let status_of = |broker: i32| snapshot.brokers.iter().find(|b| b.id == broker).map(|b| b.status);
    let end =
        partition.replicas.iter().filter_map(|b| replica_of(*b)).map(|r| r.view.log_end_offset).max().unwrap_or(0);
    let start = (end - CELLS).max(0);
    html! {
        { for partition.replicas.iter().map(|b| replica_row(replica_of(*b), timer_of(*b), status_of(*b), *b, start, partition.leader == Some(*b), partition.isr.contains(b))) }
    }
}

/// Acknowledged writes a partition lost, as struck-through offsets (newest last) with their
/// acks, when the loss was found and its cause on hover and in the row's title.
pub(super) fn lost_row(topic: &str, partition: i32, lost: &[LostWrite]) -> Html {
    let mine: Vec<&LostWrite> = lost.iter().filter(|w| w.topic == topic && w.partition == partition).collect();
    if mine.is_empty() {
        return Html::default();
    }
    let shown = &mine[mine.len().saturating_sub(CELLS_LOST)..];
    let cells = shown.iter().map(|write| {
        let acks = if write.acks == -1 { "all".to_owned() } else { write.acks.to_string() };
        let title = format!(
            "offset {}: acknowledged (acks={acks}), lost at {}{}",
            write.offset,
            seconds(write.time_ms),
            write.cause.as_deref().map(|cause| format!(" — {cause}")).unwrap_or_default()
        );
        html! { <span class="cell lost" title={title}>{ write.offset }</span> }
    });
    html! {
        <div class="replica lost-row" id={format!("lost-{topic}-{partition}")}>
            <span class="replica-label">
                <span class="replica-name">{ "lost" }</span>
                <span class="replica-note">{ format!("{} acknowledged write(s)", mine.len()) }</span>
            </span>
            <span class="cells">{ for cells }</span>
        </div>
    }
}

#[function_component(Partitions)]
pub(super) fn partitions(props: &StateProps) -> Html {
    let snapshot = &props.state.view.snapshot;
    let lag_max_ms: u64 = props
        .state
        .view
        .spec
        .broker_configs
        .get("replica.lag.time.max.ms")
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(30_000);
    let blocks = snapshot.partitions.iter().filter(|p| !p.topic.starts_with("__")).map(|partition| {
        let replica_of = |broker: i32| replica_on(snapshot, partition, broker);
        // What the leader measures each follower by: how long since it last caught up
        // (replica.lag.time.max.ms), and how far behind it is.
        let leader_view = partition.leader.and_then(replica_of).filter(|r| r.view.is_leader);
        let timer_of = |broker: i32| {
            let leader = leader_view?;
            let follower = leader.view.followers.iter().find(|f| f.broker == broker)?;
            let behind = (leader.view.log_end_offset - follower.log_end_offset.max(0)).max(0);
            let lag_ms = snapshot.now_ms.saturating_sub(follower.last_caught_up_ms);
            if partition.isr.contains(&broker) {
                (lag_ms >= 1_000).then(|| {
                    format!(
                        "behind for {}: leaves the ISR after {} (replica.lag.time.max.ms)",
                        seconds(lag_ms),
                        seconds(lag_max_ms)
                    )
                })
            } else {
                Some(format!("{behind} offset(s) behind the leader: rejoins the ISR once caught up"))
            }
        };
        let class = classes!(
            "partition",
            partition.under_replicated.then_some("under-replicated"),
            partition.offline.then_some("offline")
        );
        let leader = partition.leader.map_or_else(|| "none".to_owned(), |l| l.to_string());
        let isr: Vec<String> = partition.isr.iter().map(ToString::to_string).collect();
        html! {
            <li class={class} id={format!("partition-{}-{}", partition.topic, partition.partition)}>
                <div class="partition-title">
                    <strong>{ format!("{}-{}", partition.topic, partition.partition) }</strong>
                    <span class="leader">{ "leader " }<b class="leader-id">{ leader }</b></span>
                    <span>{ "epoch " }<b class="leader-epoch">{ partition.leader_epoch }</b></span>
                    <span>{ format!("ISR [{}]", isr.join(", ")) }</span>
                    if partition.offline { <span class="tag bad">{ "offline" }</span> }
                    else if partition.under_replicated { <span class="tag warn">{ "under-replicated" }</span> }
                </div>
                { replica_rows(snapshot, partition, timer_of) }
                { lost_row(&partition.topic, partition.partition, &snapshot.report.lost_writes) }
            </li>
        }
    });
    html! {
        <section class="panel" aria-label="Partitions">
            <h2>{ "Partitions and replica logs" }</h2>
            <p class="legend">
                <span class="cell committed e1 key"></span>{ "committed (below HW) " }
                <span class="cell uncommitted e1 key"></span>{ "above HW " }
                <span class="cell unflushed e1 key"></span>{ "not flushed (lost on crash) · colour = leader epoch" }
            </p>
            <ul class="partitions">{ for blocks }</ul>
        </section>
    }
}
