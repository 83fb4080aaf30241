//! `rill`: the broker and its admin commands.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    ApiKey, CreateTopicsRequest, DeleteTopicsRequest, DescribeGroupsRequest, GroupId, ListGroupsRequest,
    MetadataRequest, RequestKind, ResponseKind, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use rill_broker::admin_client::AdminClient;
use rill_broker::broker_config;
use rill_broker::server::{self, Listen};
use rill_core::error::ErrorCode;

/// Rill: a Kafka-compatible broker whose replication, elections and consumer groups are
/// rill-core's deterministic state machines.
#[derive(Parser)]
#[command(name = "rill", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a broker (Kafka wire protocol on `listeners`, data in `log.dirs`).
    Broker(BrokerArgs),
    /// Format a node's `log.dirs` before its first start, as `kafka-storage format` does: its
    /// cluster id, its directory id and, on a controller, how its quorum starts.
    Format(FormatArgs),
    /// Start a local cluster of N brokers on 127.0.0.1 (one process each) for trying Rill out.
    LocalCluster(LocalClusterArgs),
    /// Create, list, describe topics.
    Topics {
        #[command(subcommand)]
        command: TopicsCommand,
    },
    /// List and describe consumer groups.
    Groups {
        #[command(subcommand)]
        command: GroupsCommand,
    },
}

#[derive(Args)]
struct BrokerArgs {
    /// A config file with Kafka's names: `server.properties` (key=value lines) or a `.toml` file
    /// (`node.id = 1`, dotted keys or tables: `[log] retention.hours = 24`).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Set one config, e.g. `--set node.id=1 --set log.dirs=/tmp/rill`; wins over the file.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Serve HTTP on this port of 127.0.0.1: Prometheus metrics on `/metrics`, and the
    /// dashboard from `--www` on `/`.
    #[arg(long, alias = "metrics-port", value_name = "PORT")]
    http_port: Option<u16>,
    /// A directory of static files to serve on the HTTP port (the dashboard: `www/`).
    #[arg(long, value_name = "DIR", requires = "http_port")]
    www: Option<PathBuf>,
    /// Print the effective configuration with each value's source (default, file, --set), as
    /// `kafka-configs --describe --all` shows it, and exit.
    #[arg(long)]
    print_config: bool,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("quorum").args(["standalone", "initial_controllers", "no_initial_controllers"])))]
struct FormatArgs {
    /// The node's config file (as for `rill broker`).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Set one config, e.g. `--set node.id=2`; wins over the file.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// The cluster id (`kafka-storage random-uuid`'s form); a fresh one when left out,
    /// printed so the other nodes can be formatted with it.
    #[arg(long, short = 't', value_name = "ID")]
    cluster_id: Option<String>,
    /// A dynamic quorum (KIP-853) whose only voter is this controller.
    #[arg(long, short = 's')]
    standalone: bool,
    /// A dynamic quorum whose voters are these controllers: `ID@HOST:PORT[:DIRECTORY_ID],...`,
    /// the same list on each of them.
    #[arg(long, short = 'I', value_name = "LIST")]
    initial_controllers: Option<String>,
    /// A controller that joins a dynamic quorum as an observer, to be added with
    /// `kafka-metadata-quorum add-controller`.
    #[arg(long, short = 'N')]
    no_initial_controllers: bool,
}

#[derive(Args)]
struct LocalClusterArgs {
    /// How many brokers.
    #[arg(long, default_value_t = 3)]
    brokers: u16,
    /// Run the controller quorum on this many controller-only nodes
    /// (`process.roles=controller`, numbered after the brokers) instead of on the first
    /// brokers (KRaft's combined mode, the default).
    #[arg(long, default_value_t = 0, value_name = "N")]
    controller_only: u16,
    /// Kafka port of broker 1; broker i listens on PORT + i − 1, and its internal channel on
    /// PORT + 100 + i − 1.
    #[arg(long, default_value_t = 9092)]
    port: u16,
    /// Where the brokers keep their data (one directory each).
    #[arg(long, value_name = "DIR")]
    log_dir: Option<PathBuf>,
    /// Broker 1 serves HTTP (`/metrics`, and `--www`) on this port.
    #[arg(long, value_name = "PORT")]
    http_port: Option<u16>,
    /// Static files for broker 1's HTTP port (the dashboard: `www/`).
    #[arg(long, value_name = "DIR", requires = "http_port")]
    www: Option<PathBuf>,
}

#[derive(Args, Clone)]
struct Bootstrap {
    /// A broker to talk to.
    #[arg(long, default_value = "127.0.0.1:9092", value_name = "HOST:PORT")]
    bootstrap_server: String,
}

#[derive(Subcommand)]
enum TopicsCommand {
    /// Create a topic.
    Create {
        #[command(flatten)]
        bootstrap: Bootstrap,
        /// Topic name.
        #[arg(long)]
        topic: String,
        /// Partitions (default: the broker's `num.partitions`).
        #[arg(long)]
        partitions: Option<i32>,
        /// Replication factor (default: the broker's `default.replication.factor`).
        #[arg(long)]
        replication_factor: Option<i16>,
        /// A topic config, e.g. `--config retention.ms=60000` (repeatable).
        #[arg(long = "config", value_name = "KEY=VALUE")]
        configs: Vec<String>,
    },
    /// Delete a topic and its data.
    Delete {
        #[command(flatten)]
        bootstrap: Bootstrap,
        /// Topic name.
        #[arg(long)]
        topic: String,
    },
    /// List topics.
    List {
        #[command(flatten)]
        bootstrap: Bootstrap,
    },
    /// Show a topic's partitions: leader, epoch, replicas, ISR.
    Describe {
        #[command(flatten)]
        bootstrap: Bootstrap,
        /// Topic name (all topics when left out).
        #[arg(long)]
        topic: Option<String>,
    },
}

#[derive(Subcommand)]
enum GroupsCommand {
    /// List consumer groups.
    List {
        #[command(flatten)]
        bootstrap: Bootstrap,
    },
    /// Show a group's state and members.
    Describe {
        #[command(flatten)]
        bootstrap: Bootstrap,
        /// Group id.
        #[arg(long)]
        group: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Broker(args) => run_broker(&args),
        Command::Format(args) => format(&args),
        Command::LocalCluster(args) => local_cluster(&args),
        Command::Topics { command } => topics(command),
        Command::Groups { command } => groups(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Whether `text` is a Kafka `Uuid` as its tools print one: 22 characters of base64url.
fn kafka_uuid(text: &str) -> bool {
    text.len() == 22 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `rill format`: `kafka-storage format` for Rill's `log.dirs`.
fn format(args: &FormatArgs) -> Result<(), String> {
    use rill_broker::{meta_properties, quorum_store};
    let loaded = broker_config::load_to_format(args.config.as_deref(), &args.overrides)?;
    let node = loaded.config.node_id;
    let log_dir = PathBuf::from(loaded.config.log_dirs.split(',').next().unwrap_or_default());
    let static_voters = !loaded.config.controller_quorum_voters.is_empty();
    let asked = args.standalone || args.initial_controllers.is_some() || args.no_initial_controllers;
    let mut directory_id = None;
    let bootstrap: Option<Vec<i32>> = if !loaded.roles.controller {
        if asked {
            return Err("--standalone, --initial-controllers and --no-initial-controllers are for controllers: \
                        process.roles has no controller"
                .to_owned());
        }
        None
    } else if static_voters {
        if asked {
            return Err("controller.quorum.voters is set (a static quorum, kraft.version=0): remove it to format a \
                        dynamic quorum with --standalone, --initial-controllers or --no-initial-controllers"
                .to_owned());
        }
        None
    } else if args.standalone {
        Some(vec![node])
    } else if let Some(list) = &args.initial_controllers {
        let mut ids = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
            let (id, rest) = entry
                .split_once('@')
                .ok_or_else(|| format!("--initial-controllers: {entry} is not ID@HOST:PORT[:DIRECTORY_ID]"))?;
            let id: i32 = id.parse().map_err(|_| format!("--initial-controllers: {id} in {entry} is not a node id"))?;
            if ids.contains(&id) {
                return Err(format!("--initial-controllers names node {id} twice"));
            }
            // HOST:PORT:DIRECTORY_ID: the directory id follows the port.
            let parts: Vec<&str> = rest.rsplitn(3, ':').collect();
            if id == node && parts.len() == 3 && parts[1].parse::<u16>().is_ok() {
                if !kafka_uuid(parts[0]) {
                    return Err(format!(
                        "--initial-controllers: the directory id {} of {entry} is not 22 characters of base64url",
                        parts[0]
                    ));
                }
                directory_id = Some(parts[0].to_owned());
            }
            ids.push(id);
        }
        ids.sort_unstable();
        if ids.is_empty() {
            return Err("--initial-controllers names no controller".to_owned());
        }
        Some(ids)
    } else if args.no_initial_controllers {
        Some(Vec::new())
    } else {
        return Err("controller.quorum.voters is not set on this controller: give one of --standalone, \
                    --initial-controllers or --no-initial-controllers (a dynamic quorum, KIP-853), or name the \
                    voters in controller.quorum.voters"
            .to_owned());
    };
    let cluster_id = match &args.cluster_id {
        Some(id) if kafka_uuid(id) => id.clone(),
        Some(id) => {
            return Err(format!(
                "--cluster-id {id} is not a cluster id: 22 characters of base64url, as \
                                        kafka-storage random-uuid prints"
            ))
        }
        None => meta_properties::random_cluster_id()?,
    };
    let directory_id = match directory_id {
        Some(id) => id,
        None => meta_properties::random_cluster_id()?,
    };
    if bootstrap.is_some() {
        // Both checked before either is written: a half-formatted directory is refused next time.
        quorum_store::refuse_formatted(&log_dir)?;
    }
    meta_properties::format(&log_dir, node, &cluster_id, &directory_id)?;
    if let Some(bootstrap) = &bootstrap {
        quorum_store::format(&log_dir, node, bootstrap)?;
    }
    println!("Formatted {} for node {node} of cluster {cluster_id} (directory.id {directory_id})", log_dir.display());
    match bootstrap {
        Some(voters) if voters.is_empty() => {
            println!("Its controller joins the quorum as an observer: add it with kafka-metadata-quorum add-controller")
        }
        Some(voters) => println!("Its controller quorum is dynamic (kraft.version=1), starting with voters {voters:?}"),
        None => {}
    }
    if args.cluster_id.is_none() {
        println!("Format the cluster's other nodes with --cluster-id={cluster_id}");
    }
    Ok(())
}

fn run_broker(args: &BrokerArgs) -> Result<(), String> {
    let loaded = broker_config::load(args.config.as_deref(), &args.overrides)?;
    if args.print_config {
        print!("{}", loaded.describe());
        return Ok(());
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_target(false)
        // Colours on a terminal only: a log file or a pipe gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    for (warning, line) in loaded.notices() {
        if warning {
            tracing::warn!("{line}");
        } else {
            tracing::info!("{line}");
        }
    }
    let listen = Listen {
        kafka: loaded.listeners.bind,
        http: args.http_port.map(|port| SocketAddr::from(([127, 0, 0, 1], port))),
        www: args.www.clone(),
        request_max_bytes: usize::try_from(loaded.config.socket_request_max_bytes).unwrap_or(100 << 20),
        roles: loaded.roles,
    };
    let (advertised_host, advertised_port) = loaded.listeners.advertised.clone();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let static_configs = loaded.static_configs();
    runtime.block_on(server::run(loaded.config, static_configs, listen, (advertised_host, i32::from(advertised_port))))
}

fn local_cluster(args: &LocalClusterArgs) -> Result<(), String> {
    if !(1..=9).contains(&args.brokers) {
        return Err(format!("--brokers must be between 1 and 9, got {}", args.brokers));
    }
    if args.controller_only > 5 {
        return Err(format!("--controller-only must be between 0 and 5, got {}", args.controller_only));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let root = args.log_dir.clone().unwrap_or_else(|| std::env::temp_dir().join("rill-local-cluster"));
    let kafka = |i: u16| args.port + i - 1;
    let internal = |i: u16| args.port + 100 + i - 1;
    let all = args.brokers + args.controller_only;
    let nodes: Vec<String> = (1..=all).map(|i| format!("{i}@127.0.0.1:{}:{}", kafka(i), internal(i))).collect();
    // Every node a broker, the first 1, 3 or 5 also controllers (KRaft's combined mode: an odd
    // quorum, so a minority can fail and the metadata stays available) — or, with
    // --controller-only, the quorum on nodes of its own.
    let controllers: Vec<u16> = if args.controller_only > 0 {
        (args.brokers + 1..=all).collect()
    } else {
        let combined: u16 = match args.brokers {
            1 | 2 => 1,
            3 | 4 => 3,
            _ => 5,
        };
        (1..=combined).collect()
    };
    let voters: Vec<String> = controllers.iter().map(|i| format!("{i}@127.0.0.1:{}", internal(*i))).collect();
    let mut children = Vec::new();
    for i in 1..=all {
        let broker = i <= args.brokers;
        let roles = broker_config::Roles { broker, controller: controllers.contains(&i), explicit: true };
        let mut command = std::process::Command::new(&exe);
        command
            .arg("broker")
            .args(["--set", &format!("node.id={i}")])
            .args(["--set", &format!("process.roles={}", roles.text())])
            .args([
                "--set",
                &format!("listeners={}://127.0.0.1:{}", if broker { "PLAINTEXT" } else { "CONTROLLER" }, kafka(i)),
            ])
            .args(["--set", "controller.listener.names=CONTROLLER"])
            .args([
                "--set",
                &format!(
                    "log.dirs={}",
                    root.join(format!("{}-{i}", if broker { "broker" } else { "controller" })).display()
                ),
            ])
            .args(["--set", &format!("rill.cluster.nodes={}", nodes.join(","))])
            .args(["--set", &format!("controller.quorum.voters={}", voters.join(","))])
            .args(["--set", &format!("offsets.topic.replication.factor={}", args.brokers.min(3))])
            .args(["--set", &format!("default.replication.factor={}", args.brokers.min(3))]);
        if i == 1 {
            if let Some(port) = args.http_port {
                command.args(["--http-port", &port.to_string()]);
            }
            if let Some(www) = &args.www {
                command.arg("--www").arg(www);
            }
        }
        children.push(command.spawn().map_err(|e| format!("cannot start node {i}: {e}"))?);
    }
    let bootstrap: Vec<String> = (1..=args.brokers).map(|i| format!("127.0.0.1:{}", kafka(i))).collect();
    let quorum = if args.controller_only > 0 {
        format!("its controller quorum on {} controller-only nodes", controllers.len())
    } else {
        format!("{} of them controllers", controllers.len())
    };
    eprintln!(
        "A {}-broker Rill cluster is starting, {quorum} (data in {}); Ctrl-C stops it.",
        args.brokers,
        root.display()
    );
    eprintln!("  bootstrap servers: {}", bootstrap.join(","));
    eprintln!("  try: kcat -b {} -L", bootstrap[0]);
    if args.controller_only > 0 {
        let at: Vec<String> = controllers.iter().map(|i| format!("127.0.0.1:{}", kafka(*i))).collect();
        eprintln!("  controllers (--bootstrap-controller): {}", at.join(","));
    }
    // Ctrl-C on a terminal reaches every node (one process group); SIGTERM or SIGINT sent to
    // this process alone is passed on, so no node outlives it.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let mut failed = None;
    let mut running: Vec<(usize, std::process::Child)> = children.into_iter().enumerate().collect();
    let signal = runtime.block_on(async {
        let shutdown = server::shutdown_signal();
        tokio::pin!(shutdown);
        while !running.is_empty() {
            tokio::select! {
                signal = &mut shutdown => return Some(signal),
                () = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
            }
            running.retain_mut(|(index, child)| match child.try_wait() {
                Ok(None) => true,
                Ok(Some(status)) => {
                    if !status.success() && failed.is_none() {
                        failed = Some(format!("node {} exited: {status}", *index + 1));
                    }
                    false
                }
                Err(error) => {
                    failed.get_or_insert(error.to_string());
                    false
                }
            });
        }
        None
    });
    if let Some(signal) = signal {
        eprintln!("{signal}: stopping the {} running nodes", running.len());
        for (_, child) in &running {
            let _ = std::process::Command::new("sh").args(["-c", &format!("kill -TERM {}", child.id())]).status();
        }
        for (_, child) in &mut running {
            let _ = child.wait();
        }
        return Ok(());
    }
    failed.map_or(Ok(()), Err)
}

fn text(value: &StrBytes) -> &str {
    value.as_str()
}

fn error_name(code: i16) -> String {
    ErrorCode::from_code(code).map_or_else(|| format!("error {code}"), |code| code.name().to_owned())
}

fn topics(command: TopicsCommand) -> Result<(), String> {
    match command {
        TopicsCommand::Create { bootstrap, topic, partitions, replication_factor, configs } => {
            let mut creatable = CreatableTopic::default();
            creatable.name = TopicName(StrBytes::from_string(topic.clone()));
            creatable.num_partitions = partitions.unwrap_or(-1);
            creatable.replication_factor = replication_factor.unwrap_or(-1);
            for pair in configs {
                let (key, value) =
                    pair.split_once('=').ok_or_else(|| format!("--config {pair:?}: expected KEY=VALUE"))?;
                let mut config = CreatableTopicConfig::default();
                config.name = StrBytes::from_string(key.to_owned());
                config.value = Some(StrBytes::from_string(value.to_owned()));
                creatable.configs.push(config);
            }
            let mut request = CreateTopicsRequest::default();
            request.topics.push(creatable);
            request.timeout_ms = 30_000;
            let response = retrying(&bootstrap, |client| {
                let ResponseKind::CreateTopics(response) =
                    client.call(ApiKey::CreateTopics, 5, &RequestKind::CreateTopics(request.clone()))?
                else {
                    return Err("unexpected response".to_owned());
                };
                let error = response.topics.iter().find(|result| result.error_code != 0);
                Ok(match error.map(|result| (result.error_code, result.error_message.clone())) {
                    Some(error) => Err(error),
                    None => Ok(response),
                })
            })?;
            for result in response.topics {
                println!(
                    "Created topic {} ({} partitions, replication factor {}).",
                    text(&result.name.0),
                    result.num_partitions,
                    result.replication_factor
                );
            }
            Ok(())
        }
        TopicsCommand::Delete { bootstrap, topic } => {
            let mut request = DeleteTopicsRequest::default();
            request.topic_names.push(TopicName(StrBytes::from_string(topic.clone())));
            request.timeout_ms = 30_000;
            retrying(&bootstrap, |client| {
                let ResponseKind::DeleteTopics(response) =
                    client.call(ApiKey::DeleteTopics, 5, &RequestKind::DeleteTopics(request.clone()))?
                else {
                    return Err("unexpected response".to_owned());
                };
                let error = response.responses.iter().find(|result| result.error_code != 0);
                Ok(error.map_or(Ok(()), |result| Err((result.error_code, result.error_message.clone()))))
            })?;
            println!("Deleted topic {topic}.");
            Ok(())
        }
        TopicsCommand::List { bootstrap } => {
            let response = metadata(&bootstrap, None)?;
            let mut names: Vec<&str> =
                response.topics.iter().filter_map(|t| t.name.as_ref().map(|n| text(&n.0))).collect();
            names.sort_unstable();
            for name in names {
                println!("{name}");
            }
            Ok(())
        }
        TopicsCommand::Describe { bootstrap, topic } => {
            let response = metadata(&bootstrap, topic.as_deref())?;
            for topic in response.topics {
                let name = topic.name.as_ref().map(|n| text(&n.0).to_owned()).unwrap_or_default();
                if topic.error_code != 0 {
                    return Err(format!("{name}: {}", error_name(topic.error_code)));
                }
                println!("Topic: {name}\tTopicId: {}\tPartitionCount: {}", topic.topic_id, topic.partitions.len());
                for p in topic.partitions {
                    let list = |ids: &[kafka_protocol::messages::BrokerId]| {
                        ids.iter().map(|b| b.0.to_string()).collect::<Vec<_>>().join(",")
                    };
                    println!(
                        "\tTopic: {name}\tPartition: {}\tLeader: {}\tLeaderEpoch: {}\tReplicas: {}\tIsr: {}",
                        p.partition_index,
                        p.leader_id.0,
                        p.leader_epoch,
                        list(&p.replica_nodes),
                        list(&p.isr_nodes)
                    );
                }
            }
            Ok(())
        }
    }
}

/// Sends a request to the controller's broker until it is answered without a retriable error
/// (`REQUEST_TIMED_OUT` while a new quorum elects its leader, `NOT_CONTROLLER`, …), for at most
/// 60 s, as Kafka's admin client does within `default.api.timeout.ms`. `call` gives the answer,
/// or the first error code and message in it.
fn retrying<T>(
    bootstrap: &Bootstrap,
    mut call: impl FnMut(&mut AdminClient) -> Result<Result<T, (i16, Option<StrBytes>)>, String>,
) -> Result<T, String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (code, message) = match call(&mut controller_client(bootstrap)?)? {
            Ok(answer) => return Ok(answer),
            Err(error) => error,
        };
        let message = message.as_ref().map(text).unwrap_or_default().to_owned();
        let retriable = ErrorCode::from_code(code).is_some_and(ErrorCode::is_retriable);
        if !retriable || std::time::Instant::now() >= deadline {
            return Err(format!("{}: {message}", error_name(code)));
        }
        eprintln!("{} ({message}); trying again", error_name(code));
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// A connection to the active controller's broker, as the cluster's metadata names it (topic
/// changes go there, as a Kafka admin client sends them); the bootstrap server if it names none.
fn controller_client(bootstrap: &Bootstrap) -> Result<AdminClient, String> {
    let response = metadata(bootstrap, None)?;
    let controller = response.brokers.iter().find(|broker| broker.node_id == response.controller_id);
    match controller {
        Some(broker) => AdminClient::connect(&format!("{}:{}", broker.host.as_str(), broker.port))
            .or_else(|_| AdminClient::connect(&bootstrap.bootstrap_server)),
        None => AdminClient::connect(&bootstrap.bootstrap_server),
    }
}

fn metadata(bootstrap: &Bootstrap, topic: Option<&str>) -> Result<kafka_protocol::messages::MetadataResponse, String> {
    let mut client = AdminClient::connect(&bootstrap.bootstrap_server)?;
    let mut request = MetadataRequest::default();
    request.topics = topic.map(|name| {
        let mut wanted = MetadataRequestTopic::default();
        wanted.name = Some(TopicName(StrBytes::from_string(name.to_owned())));
        vec![wanted]
    });
    match client.call(ApiKey::Metadata, 12, &RequestKind::Metadata(request))? {
        ResponseKind::Metadata(response) => Ok(response),
        _ => Err("unexpected response".to_owned()),
    }
}

fn groups(command: GroupsCommand) -> Result<(), String> {
    match command {
        GroupsCommand::List { bootstrap } => {
            let mut client = AdminClient::connect(&bootstrap.bootstrap_server)?;
            let ResponseKind::ListGroups(response) =
                client.call(ApiKey::ListGroups, 3, &RequestKind::ListGroups(ListGroupsRequest::default()))?
            else {
                return Err("unexpected response".to_owned());
            };
            for group in response.groups {
                println!("{}\t{}", text(&group.group_id.0), text(&group.group_state));
            }
            Ok(())
        }
        GroupsCommand::Describe { bootstrap, group } => {
            let mut client = AdminClient::connect(&bootstrap.bootstrap_server)?;
            let mut request = DescribeGroupsRequest::default();
            request.groups.push(GroupId(StrBytes::from_string(group)));
            let ResponseKind::DescribeGroups(response) =
                client.call(ApiKey::DescribeGroups, 4, &RequestKind::DescribeGroups(request))?
            else {
                return Err("unexpected response".to_owned());
            };
            for group in response.groups {
                println!(
                    "Group: {}\tState: {}\tAssignor: {}",
                    text(&group.group_id.0),
                    text(&group.group_state),
                    text(&group.protocol_data)
                );
                for member in group.members {
                    println!("\tMember: {}", text(&member.member_id));
                }
            }
            Ok(())
        }
    }
}
