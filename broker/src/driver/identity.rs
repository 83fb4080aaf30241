//! Which cluster this node belongs to (Kafka's `cluster.id`, KIP-595's `INCONSISTENT_CLUSTER_ID`).
//!
//! The id is stored in `meta.properties` (see [`crate::meta_properties`]) and carried by every
//! frame between nodes. A frame from a node that believes it belongs to another cluster is
//! dropped and answered with this node's id, so a directory left over from another cluster
//! can neither vote in this quorum (its log could otherwise win an election and truncate this
//! cluster's metadata) nor replicate data to or from it. The node refused by a majority of the
//! voters is the odd one out: it stops and says why. A node learns the id from committed
//! metadata; metadata naming another cluster than the one stored makes it stop too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cluster::{self, Received};
use crate::meta_properties;

use super::Driver;

/// This node's cluster identity. See the module doc.
#[derive(Debug)]
pub(super) struct Identity {
    log_dir: PathBuf,
    node_id: i32,
    /// The cluster it belongs to, once known.
    pub(super) cluster_id: Option<String>,
    /// Nodes that dropped its frames, and the cluster each said it belongs to.
    refused_by: BTreeMap<i32, String>,
    /// Nodes whose frames it dropped (warned once each).
    refused: BTreeMap<i32, String>,
}

/// Stops the process: continuing would mix two clusters' data.
fn stop(reason: &str) -> ! {
    tracing::error!("{reason}; stopping");
    eprintln!("error: {reason}");
    std::process::exit(1);
}

impl Identity {
    /// Reads `meta.properties` in `log_dir`; `in_metadata_log` is the id in this node's own
    /// metadata log, if it has one. The two must agree.
    pub(super) fn open(log_dir: &Path, node_id: i32, in_metadata_log: Option<&str>) -> Result<Identity, String> {
        let stored = meta_properties::load(log_dir, node_id)?;
        let cluster_id = match (stored, in_metadata_log) {
            (Some(stored), Some(logged)) if stored != logged => {
                return Err(format!(
                    "{} says cluster.id={stored} but the metadata log in the same directory belongs to cluster \
                     {logged}: the directory mixes two clusters; restore it or start the node on an empty one",
                    log_dir.join(meta_properties::FILE).display()
                ))
            }
            (Some(id), _) => Some(id),
            (None, Some(logged)) => {
                meta_properties::store(log_dir, node_id, logged)?;
                Some(logged.to_owned())
            }
            (None, None) => None,
        };
        Ok(Identity {
            log_dir: log_dir.to_path_buf(),
            node_id,
            cluster_id,
            refused_by: BTreeMap::new(),
            refused: BTreeMap::new(),
        })
    }

    /// The id this node's controller names a new cluster with: the stored one, else a fresh
    /// one from the host's entropy.
    pub(super) fn proposal(&self) -> Result<Arc<str>, String> {
        match &self.cluster_id {
            Some(id) => Ok(Arc::from(id.as_str())),
            None => meta_properties::random_cluster_id().map(|id| Arc::from(id.as_str())),
        }
    }

    /// Takes up the id committed metadata names (stored the first time); stops the node if it
    /// names another cluster than the stored one.
    fn learn(&mut self, committed: &str) {
        match &self.cluster_id {
            Some(ours) if ours == committed => {}
            Some(ours) => stop(&format!(
                "log.dirs {} belongs to cluster {ours} but the controller quorum's metadata names cluster \
                 {committed}: this node would mix two clusters' data; start it on its own directory or an empty one",
                self.log_dir.display()
            )),
            None => {
                if let Err(error) = meta_properties::store(&self.log_dir, self.node_id, committed) {
                    stop(&format!("cannot record the cluster id: {error}"));
                }
                tracing::info!(cluster_id = committed, "this node belongs to cluster {committed}");
                self.cluster_id = Some(committed.to_owned());
            }
        }
    }
}

impl Driver {
    /// The cluster id clients are told ("" until this node knows it).
    pub(super) fn cluster_id(&self) -> &str {
        self.identity.cluster_id.as_deref().unwrap_or("")
    }

    /// Takes up the cluster id of the newest committed metadata this node holds.
    pub(super) fn learn_cluster_id(&mut self) {
        // Borrowed, not cloned: this runs after every request.
        let committed = self
            .controller
            .as_ref()
            .and_then(|controller| controller.committed_image())
            .and_then(|image| image.cluster_id.as_deref())
            .or_else(|| self.broker.as_ref().and_then(|broker| broker.image().cluster_id.as_deref()));
        if let Some(committed) = committed {
            if self.identity.cluster_id.as_deref() != Some(committed) {
                self.identity.learn(committed);
            }
        }
    }

    /// Whether a frame may go on to the state machines: not when its sender belongs to another
    /// cluster (it is told so instead). A refusal from a peer is counted here.
    pub(super) fn admit(&mut self, received: &Received) -> bool {
        if let cluster::Incoming::InconsistentClusterId(theirs) = &received.incoming {
            self.refused_by_peer(received.node, theirs.clone());
            return false;
        }
        let (Some(ours), Some(theirs)) = (&self.identity.cluster_id, &received.cluster_id) else { return true };
        if ours == theirs {
            return true;
        }
        if self.identity.refused.insert(received.node, theirs.clone()).is_none() {
            tracing::error!(
                "node {} belongs to cluster {theirs}, not to this cluster {ours} (INCONSISTENT_CLUSTER_ID): its \
                 requests are refused; its log.dirs holds another cluster's data",
                received.node
            );
        }
        if let Some(peer) = self.peers.get(&received.node) {
            let _ = peer.send(cluster::inconsistent_cluster_id(self.config.node_id, ours));
        }
        false
    }

    fn refused_by_peer(&mut self, node: i32, theirs: String) {
        let ours = self.identity.cluster_id.clone().unwrap_or_default();
        if self.identity.refused_by.insert(node, theirs.clone()).is_none() {
            tracing::warn!("node {node} refuses this node: it belongs to cluster {theirs}, this node to {ours}");
        }
        // The odd one out is the node a majority of the voters refuse.
        let refusing_voters = self.voters.iter().filter(|voter| self.identity.refused_by.contains_key(voter)).count();
        if refusing_voters > self.voters.len() / 2 {
            stop(&format!(
                "log.dirs {} belongs to cluster {ours}, but the controller quorum (voters {:?}) is cluster {theirs} \
                 (INCONSISTENT_CLUSTER_ID): this directory holds another cluster's data; start the node on its own \
                 directory or an empty one",
                self.identity.log_dir.display(),
                self.voters
            ));
        }
    }
}
