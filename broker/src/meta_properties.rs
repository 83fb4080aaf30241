//! `meta.properties` at the root of `log.dirs`, as `kafka-storage format` writes it: the
//! directory's `node.id` and the `cluster.id` of the cluster its data belongs to. Kafka makes
//! an operator format every directory with one id before the first start; Rill's first active
//! controller names the cluster and each node writes the name here once it learns it. From
//! then on the node refuses to join — and its peers refuse it — any other cluster, so a
//! directory left over from another cluster can never vote in, or serve data to, this one.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The file's name, Kafka's.
pub const FILE: &str = "meta.properties";

fn path(log_dir: &Path) -> PathBuf {
    log_dir.join(FILE)
}

/// Reads the cluster id stored in `log_dir` (`None` before the node has learnt one). A file
/// written for another `node.id`, or one that cannot be read, is refused.
pub fn load(log_dir: &Path, node_id: i32) -> Result<Option<String>, String> {
    let path = path(log_dir);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
    };
    let value = |key: &str| value(&text, key);
    let stored_node = value("node.id")
        .ok_or_else(|| format!("{} has no node.id: it is not a meta.properties file", path.display()))?;
    if stored_node != node_id.to_string() {
        return Err(format!(
            "{} belongs to node {stored_node} but this is node.id={node_id}: point log.dirs at this node's own directory",
            path.display()
        ));
    }
    Ok(value("cluster.id").filter(|id| !id.is_empty()))
}

/// The value of `key` in a `meta.properties` text (comments skipped).
fn value(text: &str, key: &str) -> Option<String> {
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().to_owned())
}

/// Writes `cluster_id` for `node_id` into `log_dir` (atomically, fsynced), with Kafka's keys,
/// keeping the directory's `directory.id` if it has one.
pub fn store(log_dir: &Path, node_id: i32, cluster_id: &str) -> Result<(), String> {
    write(log_dir, node_id, cluster_id, directory_id(log_dir).as_deref())
}

fn write(log_dir: &Path, node_id: i32, cluster_id: &str, directory_id: Option<&str>) -> Result<(), String> {
    let mut text = format!("#\n#Written by rill\nversion=1\nnode.id={node_id}\ncluster.id={cluster_id}\n");
    if let Some(directory_id) = directory_id {
        text.push_str(&format!("directory.id={directory_id}\n"));
    }
    crate::quorum_store::write_atomically(&path(log_dir), text.as_bytes())
}

/// `kafka-storage format`'s `meta.properties`: `node.id`, `cluster.id` and a `directory.id`
/// (KIP-858; `kafka-metadata-quorum add-controller` sends it as the new voter's). A directory
/// formatted already is refused, as Kafka refuses it.
pub fn format(log_dir: &Path, node_id: i32, cluster_id: &str, directory_id: &str) -> Result<(), String> {
    if path(log_dir).exists() {
        return Err(format!("{} is already formatted: {} exists", log_dir.display(), path(log_dir).display()));
    }
    fs::create_dir_all(log_dir).map_err(|e| format!("cannot create {}: {e}", log_dir.display()))?;
    write(log_dir, node_id, cluster_id, Some(directory_id))
}

/// The `directory.id` of `log_dir`'s `meta.properties`, if it has one.
#[must_use]
pub fn directory_id(log_dir: &Path) -> Option<String> {
    value(&fs::read_to_string(path(log_dir)).ok()?, "directory.id")
}

/// A fresh cluster id from the host's entropy, in Kafka's form (what `kafka-storage
/// random-uuid` prints).
pub fn random_cluster_id() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    fs::File::open("/dev/urandom")
        .and_then(|mut file| file.read_exact(&mut bytes))
        .map_err(|e| format!("cannot read /dev/urandom for a cluster id: {e}"))?;
    Ok(rill_core::rng::base64url(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rill-meta-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn a_stored_id_reads_back_and_another_nodes_file_is_refused() {
        let dir = dir("roundtrip");
        assert_eq!(load(&dir, 2), Ok(None), "no file yet: no id");
        let id = random_cluster_id().expect("entropy");
        assert_eq!(id.len(), 22);
        assert_ne!(id, random_cluster_id().expect("entropy"));
        store(&dir, 2, &id).expect("store");
        assert_eq!(load(&dir, 2), Ok(Some(id)));
        let error = load(&dir, 3).expect_err("another node's directory");
        assert!(error.contains("belongs to node 2 but this is node.id=3"), "{error}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_formatted_directory_keeps_its_directory_id_and_is_not_formatted_twice() {
        let dir = dir("format");
        format(&dir, 4, "clusterA", "dirA").expect("format");
        assert_eq!((load(&dir, 4), directory_id(&dir)), (Ok(Some("clusterA".to_owned())), Some("dirA".to_owned())));
        store(&dir, 4, "clusterB").expect("store");
        assert_eq!(directory_id(&dir).as_deref(), Some("dirA"), "storing a cluster id keeps the directory id");
        let again = format(&dir, 4, "clusterA", "dirB").expect_err("formatted twice");
        assert!(again.contains("already formatted"), "{again}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn kafkas_own_file_is_read() {
        let dir = dir("kafka");
        let kafka = "#\n#Tue Dec 01 04:00:00 UTC 2026\nnode.id=1\ndirectory.id=x5T1\nversion=1\ncluster.id=MkU3OEVBNTcwNTJENDM2Qk\n";
        fs::write(dir.join(FILE), kafka).expect("write");
        assert_eq!(load(&dir, 1), Ok(Some("MkU3OEVBNTcwNTJENDM2Qk".to_owned())));
        fs::write(dir.join(FILE), "garbage").expect("write");
        assert!(load(&dir, 1).expect_err("no node.id").contains("not a meta.properties file"));
        let _ = fs::remove_dir_all(&dir);
    }
}
