#![allow(dead_code)] // each test file uses part of it

//! One broker, its controller, and the test as the client, driven by hand (shared by the
//! tests that talk to a broker the way a client does).

use rill_core::broker::{BrokerNode, MemStorageFactory};
use rill_core::config::BrokerConfig;
use rill_core::controller::Controller;
use rill_core::machine::Machine;
use rill_core::protocol::{Acks, FetchResponse, Message, NodeId, Outgoing, Produce, TopicPartition};
use rill_core::record::{BatchBuilder, Record};
use rill_core::rng::Rng;
use rill_core::topic::NewTopic;

pub(crate) const CLIENT: NodeId = NodeId::Client(1);

pub(crate) struct Cluster {
    pub(crate) broker: BrokerNode<MemStorageFactory>,
    pub(crate) controller: Controller,
    pub(crate) now_ms: u64,
    /// What reached the client: (correlation id, message).
    pub(crate) answers: Vec<(u64, Message)>,
}

impl Cluster {
    pub(crate) fn new() -> Cluster {
        let config = BrokerConfig::for_node(1);
        let mut cluster = Cluster {
            broker: BrokerNode::new(config.clone(), MemStorageFactory::default(), 0),
            controller: Controller::new(config, Rng::from_seed(1)),
            now_ms: 0,
            answers: Vec::new(),
        };
        cluster.tick(0);
        cluster.controller.create_topic(0, &NewTopic::new("t", 2, 1)).expect("created");
        cluster.tick(100);
        cluster
    }

    /// Delivers every message until quiet.
    pub(crate) fn pump(&mut self) {
        loop {
            let mut outgoing: Vec<(NodeId, Outgoing)> = Vec::new();
            while let Some(out) = self.broker.poll_output() {
                outgoing.push((NodeId::Broker(1), out));
            }
            while let Some(out) = self.controller.poll_output() {
                outgoing.push((NodeId::Controller(1), out));
            }
            if outgoing.is_empty() {
                return;
            }
            for (from, out) in outgoing {
                match out.to {
                    NodeId::Controller(_) => {
                        self.controller.handle_message(self.now_ms, from, out.correlation_id, out.message)
                    }
                    NodeId::Broker(_) => self.broker.handle_message(self.now_ms, from, out.correlation_id, out.message),
                    NodeId::Client(_) => self.answers.push((out.correlation_id, out.message)),
                }
            }
        }
    }

    pub(crate) fn tick(&mut self, now_ms: u64) {
        self.now_ms = now_ms;
        Machine::handle_timeout(&mut self.broker, now_ms);
        Machine::handle_timeout(&mut self.controller, now_ms);
        self.pump();
    }

    pub(crate) fn send(&mut self, correlation_id: u64, message: Message) {
        self.broker.handle_message(self.now_ms, CLIENT, correlation_id, message);
        self.pump();
    }

    pub(crate) fn produce(&mut self, correlation_id: u64, partition: i32, value: &[u8]) {
        let batch = BatchBuilder::from_records(&[Record::new(None, Some(value), 1)]);
        let tp = TopicPartition::new("t", partition);
        self.send(correlation_id, Message::Produce(Produce { tp, acks: Acks::Leader, timeout_ms: 1_000, batch }));
    }

    pub(crate) fn fetch_answer(&self, correlation_id: u64) -> Option<&FetchResponse> {
        self.answers.iter().find_map(|(id, message)| match message {
            Message::FetchResponse(response) if *id == correlation_id => Some(response),
            _ => None,
        })
    }
}
