//! A guided tour of rill-core: `./scripts/run.sh` runs it until the broker and dashboard land.
//!
//! It creates a topic on a 3-broker cluster, places replicas like Kafka, routes keyed and
//! unkeyed records with the Java client's partitioner, appends them to partition logs, moves
//! the high watermark, rolls segments and applies retention, printing what happens.

use rill_core::config::BrokerConfig;
use rill_core::log::{PartitionLog, ReadLimit};
use rill_core::partitioner::{Partitioner, PartitionerKind};
use rill_core::placement::BrokerInfo;
use rill_core::record::{BatchBuilder, Record};
use rill_core::rng::Rng;
use rill_core::storage::MemStorage;
use rill_core::topic::{NewTopic, Topics};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed = 42;
    let mut rng = Rng::from_seed(seed);
    let broker_config = BrokerConfig::for_node(1);
    let brokers: Vec<BrokerInfo> = (1..=3).map(BrokerInfo::new).collect();
    let mut topics = Topics::new();

    println!("Rill core tour (seed {seed}): 3 brokers, one topic, Kafka's rules.\n");
    let request = NewTopic::new("orders", 3, 3)
        .config("min.insync.replicas", "2")
        .config("segment.bytes", "200")
        .config("retention.bytes", "300");
    let topic = topics.create(&request, &broker_config, &brokers, &mut rng)?.clone();
    println!("Created topic '{}' (id {:032x})", topic.name, topic.topic_id);
    for (partition, replicas) in topic.assignment.iter().enumerate() {
        println!("  {}-{partition}: replicas {replicas:?}, preferred leader {}", topic.name, replicas[0]);
    }
    println!("  config overrides: {:?}", topic.config.overrides());

    for bad in [NewTopic::new("orders", 1, 1), NewTopic::new("big", 1, 4), NewTopic::new("bad name", 1, 1)] {
        let error = topics.create(&bad, &broker_config, &brokers, &mut rng).unwrap_err();
        println!("  creating '{}' RF {}: {error}", bad.name, bad.replication_factor);
    }

    println!("\nPartitioning 12 records like the Java client (murmur2 for keys, sticky for none):");
    let mut partitioner = Partitioner::new(PartitionerKind::Default, 300);
    let mut logs: Vec<PartitionLog<MemStorage>> =
        (0..topic.partition_count()).map(|_| PartitionLog::new(MemStorage::new(), topic.config.clone())).collect();
    for index in 0..12u64 {
        let now_ms = 1_000 + index * 10;
        let key = (index % 2 == 0).then(|| format!("customer-{}", index % 5));
        let value = format!("order #{index}");
        let record = Record::new(key.as_deref().map(str::as_bytes), Some(value.as_bytes()), i64::try_from(now_ms)?);
        let partition = partitioner.partition(
            &topic.name,
            None,
            key.as_deref().map(str::as_bytes),
            100,
            topic.partition_count(),
            &mut rng,
        )?;
        let log = &mut logs[usize::try_from(partition)?];
        let info = log.append_as_leader(now_ms, BatchBuilder::from_records(&[record]), 0)?;
        println!(
            "  key {:<12} -> partition {partition}, offset {}{}",
            key.as_deref().unwrap_or("(null)"),
            info.base_offset,
            if info.rolled { "  (rolled a new segment)" } else { "" }
        );
    }

    println!("\nConsumers read only below the high watermark (committed records):");
    let busiest = (0..logs.len()).max_by_key(|index| (logs[*index].log_end_offset(), *index)).unwrap_or(0);
    let name = format!("{}-{busiest}", topic.name);
    let log = &mut logs[busiest];
    let visible = |log: &PartitionLog<MemStorage>| -> usize {
        log.read(log.log_start_offset(), 1 << 20, ReadLimit::HighWatermark).map_or(0, |read| read.batches.len())
    };
    println!("  {name}: LEO {}, HW {}, visible batches {}", log.log_end_offset(), log.high_watermark(), visible(log));
    log.set_high_watermark(log.log_end_offset());
    println!("  followers caught up -> HW {}, visible batches {}", log.high_watermark(), visible(log));

    println!("\nRetention (retention.bytes=300, whole segments, never the active one):");
    for segment in log.segments() {
        println!("  segment [{}, {}) {} bytes", segment.base_offset, segment.next_offset, segment.size_bytes);
    }
    for deleted in log.apply_retention(10_000)? {
        println!(
            "  deleted segment [{}, {}) by {:?} retention",
            deleted.segment.base_offset, deleted.segment.next_offset, deleted.reason
        );
    }
    println!("  log start offset is now {}", log.log_start_offset());
    match log.read(0, 1 << 20, ReadLimit::HighWatermark) {
        Ok(_) => println!("  offset 0 is still readable"),
        Err(error) => println!("  reading offset 0: {error}"),
    }
    println!("\nNext: replication, the simulated cluster, the broker and the dashboard (see README).");
    Ok(())
}
