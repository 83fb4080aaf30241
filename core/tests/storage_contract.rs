//! `MemStorage` passes the storage contract suite every `Storage` must pass.

use rill_core::storage::contract::{self, Harness};
use rill_core::storage::{MemStorage, Storage};

struct MemHarness;

impl Harness for MemHarness {
    type Storage = MemStorage;

    fn fresh(&mut self) -> MemStorage {
        MemStorage::new()
    }

    fn crash_and_recover(&mut self, mut storage: MemStorage) -> MemStorage {
        storage.crash();
        storage
    }

    fn reopen(&mut self, mut storage: MemStorage) -> MemStorage {
        storage.flush().expect("flush");
        storage
    }
}

#[test]
fn mem_storage_passes_the_contract() {
    contract::run_all(&mut MemHarness);
}

#[test]
fn mem_storage_crash_loses_exactly_the_unflushed_tail() {
    let mut storage = MemStorage::new();
    contract::append_batches(&mut storage, &[2, 3], 0);
    storage.flush().unwrap();
    contract::append_batches(&mut storage, &[4], 0);
    assert_eq!(storage.log_end_offset(), 9);
    storage.crash();
    assert_eq!(storage.log_end_offset(), 5, "the unflushed batch [5, 9) is lost");
    assert_eq!(storage.flushed_offset(), 5);
}

/// A storage that breaks the contract must be caught by the suite (the suite can fail).
#[test]
#[should_panic(expected = "prefix")]
fn contract_catches_a_storage_that_invents_data_on_crash() {
    struct Liar;
    impl Harness for Liar {
        type Storage = MemStorage;
        fn fresh(&mut self) -> MemStorage {
            MemStorage::new()
        }
        fn crash_and_recover(&mut self, mut storage: MemStorage) -> MemStorage {
            // Loses the tail, then appends a different batch at the same offsets.
            storage.crash();
            let leo = storage.log_end_offset();
            storage.append(contract::test_batch(leo, 1, 999_999)).unwrap();
            storage
        }
        fn reopen(&mut self, storage: MemStorage) -> MemStorage {
            storage
        }
    }
    contract::crash_keeps_flushed_prefix(&mut Liar);
}
