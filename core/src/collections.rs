//! Small ordered collections: [`VecMap`] and [`VecSet`], sorted `Vec`s with the subset of
//! `BTreeMap`/`BTreeSet`'s API the core uses, and [`sort_by_key`], a compact stable sort.
//!
//! Why not `BTreeMap` everywhere: every key/value type of a `BTreeMap` brings its own copy of
//! the B-tree's insert, split, merge and rebalance code. Over the ~45 map types in the core
//! that was a third of the WebAssembly module at opt-level "s" (280 KB of 840 KB); a sorted
//! `Vec` needs a binary search and a `Vec::insert`, a few hundred bytes per type. Most of the
//! core's maps are small (brokers, partitions of a broker, members of a group) and are read far
//! more than written, where a sorted `Vec` is also faster. Maps that grow without a small bound
//! and take inserts in the middle (the checker's per-record tables, a broker's replicas) stay
//! `BTreeMap`: inserting into a sorted `Vec` moves the tail, O(n) per insert.
//!
//! Iteration is in key order, exactly like `BTreeMap`, so traces are unchanged and the same on
//! every platform. Serde reads and writes both as maps, like `BTreeMap`.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::ops::{Bound, Index, RangeBounds};

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A map kept as a `Vec` of entries sorted by key (see the module docs for when to use it).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VecMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap { entries: Vec::new() }
    }
}

impl<K, V> VecMap<K, V> {
    /// An empty map (allocates nothing).
    #[must_use]
    pub const fn new() -> Self {
        VecMap { entries: Vec::new() }
    }

    /// The number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Entries in key order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter { inner: self.entries.iter() }
    }

    /// Entries in key order, values mutable.
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        IterMut { inner: self.entries.iter_mut() }
    }

    /// Keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(key, _)| key)
    }

    /// Values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(_, value)| value)
    }

    /// Values in key order, mutable.
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, value)| value)
    }

    /// Keeps only the entries `keep` returns true for, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain_mut(|(key, value)| keep(key, value));
    }
}

impl<K: Ord, V> VecMap<K, V> {
    fn search<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.entries.binary_search_by(|(probe, _)| probe.borrow().cmp(key))
    }

    /// The value for `key`.
    #[must_use]
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.search(key).ok().map(|index| &self.entries[index].1)
    }

    /// The value for `key`, mutable.
    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.search(key).ok().map(|index| &mut self.entries[index].1)
    }

    /// Whether `key` has an entry.
    #[must_use]
    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.search(key).is_ok()
    }

    /// Sets `key` to `value`; returns the value it replaced. The stored key is kept (as
    /// `BTreeMap::insert` does).
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.search(&key) {
            Ok(index) => Some(std::mem::replace(&mut self.entries[index].1, value)),
            Err(index) => {
                self.entries.insert(index, (key, value));
                None
            }
        }
    }

    /// Removes `key`; returns its value.
    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.search(key).ok().map(|index| self.entries.remove(index).1)
    }

    /// The entry for `key`, to read, insert or change in place.
    pub fn entry(&mut self, key: K) -> Entry<'_, K, V> {
        match self.search(&key) {
            Ok(index) => Entry::Occupied(OccupiedEntry { map: self, index }),
            Err(index) => Entry::Vacant(VacantEntry { map: self, index, key }),
        }
    }

    fn bounds<Q: Ord + ?Sized>(&self, range: &impl RangeBounds<Q>) -> (usize, usize)
    where
        K: Borrow<Q>,
    {
        let start = match range.start_bound() {
            Bound::Included(key) => self.entries.partition_point(|(probe, _)| probe.borrow() < key),
            Bound::Excluded(key) => self.entries.partition_point(|(probe, _)| probe.borrow() <= key),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(key) => self.entries.partition_point(|(probe, _)| probe.borrow() <= key),
            Bound::Excluded(key) => self.entries.partition_point(|(probe, _)| probe.borrow() < key),
            Bound::Unbounded => self.entries.len(),
        };
        (start, end.max(start))
    }

    /// The entries whose keys are in `range`, in order.
    pub fn range<Q: Ord + ?Sized>(&self, range: impl RangeBounds<Q>) -> Iter<'_, K, V>
    where
        K: Borrow<Q>,
    {
        let (start, end) = self.bounds(&range);
        Iter { inner: self.entries[start..end].iter() }
    }
}

/// A view into one key's place in a [`VecMap`] (the `BTreeMap` entry API).
pub enum Entry<'a, K, V> {
    /// The key has no value yet.
    Vacant(VacantEntry<'a, K, V>),
    /// The key has a value.
    Occupied(OccupiedEntry<'a, K, V>),
}

/// A key with no value yet, and where it goes.
pub struct VacantEntry<'a, K, V> {
    map: &'a mut VecMap<K, V>,
    index: usize,
    key: K,
}

/// A key that has a value.
pub struct OccupiedEntry<'a, K, V> {
    map: &'a mut VecMap<K, V>,
    index: usize,
}

impl<'a, K, V> Entry<'a, K, V> {
    /// The value, inserting `default` first if there is none.
    pub fn or_insert(self, default: V) -> &'a mut V {
        self.or_insert_with(|| default)
    }

    /// The value, inserting `make()` first if there is none.
    pub fn or_insert_with(self, make: impl FnOnce() -> V) -> &'a mut V {
        match self {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(make()),
        }
    }

    /// The value, inserting `V::default()` first if there is none.
    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    /// Changes the value in place if there is one.
    #[must_use]
    pub fn and_modify(mut self, change: impl FnOnce(&mut V)) -> Self {
        if let Entry::Occupied(entry) = &mut self {
            change(entry.get_mut());
        }
        self
    }
}

impl<'a, K, V> VacantEntry<'a, K, V> {
    /// Inserts `value` for the key.
    pub fn insert(self, value: V) -> &'a mut V {
        self.map.entries.insert(self.index, (self.key, value));
        &mut self.map.entries[self.index].1
    }
}

impl<'a, K, V> OccupiedEntry<'a, K, V> {
    /// The value, mutable.
    pub fn get_mut(&mut self) -> &mut V {
        &mut self.map.entries[self.index].1
    }

    /// The value, mutable for as long as the map is borrowed.
    pub fn into_mut(self) -> &'a mut V {
        &mut self.map.entries[self.index].1
    }
}

/// An iterator over a [`VecMap`]'s entries, in key order.
#[derive(Clone)]
pub struct Iter<'a, K, V> {
    inner: std::slice::Iter<'a, (K, V)>,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(key, value)| (key, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<K, V> DoubleEndedIterator for Iter<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|(key, value)| (key, value))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}

/// An iterator over a [`VecMap`]'s entries with mutable values, in key order.
pub struct IterMut<'a, K, V> {
    inner: std::slice::IterMut<'a, (K, V)>,
}

impl<'a, K, V> Iterator for IterMut<'a, K, V> {
    type Item = (&'a K, &'a mut V);

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(key, value)| (&*key, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<K, V> DoubleEndedIterator for IterMut<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|(key, value)| (&*key, value))
    }
}

impl<K, V> ExactSizeIterator for IterMut<'_, K, V> {}

impl<'a, K, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, K, V> IntoIterator for &'a mut VecMap<K, V> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    /// Like `BTreeMap`: for a key given more than once the last value wins.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut entries: Vec<(K, V)> = iter.into_iter().collect();
        sort_by(&mut entries, |a, b| a.0.cmp(&b.0));
        // Stable sort keeps duplicates in input order: keep the last of each run.
        let mut kept: Vec<(K, V)> = Vec::with_capacity(entries.len());
        for entry in entries {
            match kept.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => kept.push(entry),
            }
        }
        VecMap { entries: kept }
    }
}

impl<K: Ord, V, const N: usize> From<[(K, V); N]> for VecMap<K, V> {
    fn from(entries: [(K, V); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl<K: Ord, V> Extend<(K, V)> for VecMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (key, value) in iter {
            self.insert(key, value);
        }
    }
}

impl<K: Ord + Borrow<Q>, Q: Ord + ?Sized, V> Index<&Q> for VecMap<K, V> {
    type Output = V;

    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry for key in VecMap")
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Serialize, V: Serialize> Serialize for VecMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (key, value) in self {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Deserialize<'de> for VecMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<K, V>(std::marker::PhantomData<(K, V)>);

        impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Visitor<'de> for MapVisitor<K, V> {
            type Value = VecMap<K, V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut map = VecMap::new();
                while let Some((key, value)) = access.next_entry()? {
                    map.insert(key, value);
                }
                Ok(map)
            }
        }

        deserializer.deserialize_map(MapVisitor(std::marker::PhantomData))
    }
}

/// How often each key occurs, in key order. O(n log n): one sort, then runs. (Counting into a
/// `VecMap` one key at a time moves the tail for every new key, O(n²) for keys in random order
/// such as fingerprints.)
pub fn counts<K: Ord>(keys: impl IntoIterator<Item = K>) -> VecMap<K, u64> {
    let mut keys: Vec<K> = keys.into_iter().collect();
    sort(&mut keys);
    let mut entries: Vec<(K, u64)> = Vec::new();
    for key in keys {
        match entries.last_mut() {
            Some((last, count)) if *last == key => *count += 1,
            _ => entries.push((key, 1)),
        }
    }
    VecMap { entries }
}

/// A set kept as a sorted `Vec` (see the module docs for when to use it).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VecSet<T> {
    items: Vec<T>,
}

impl<T> Default for VecSet<T> {
    fn default() -> Self {
        VecSet { items: Vec::new() }
    }
}

impl<T> VecSet<T> {
    /// An empty set (allocates nothing).
    #[must_use]
    pub const fn new() -> Self {
        VecSet { items: Vec::new() }
    }

    /// The number of items.
    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the set has no items.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Removes every item.
    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// Items in order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    /// Keeps only the items `keep` returns true for.
    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        self.items.retain(keep);
    }
}

impl<T: Ord> VecSet<T> {
    fn search<Q: Ord + ?Sized>(&self, item: &Q) -> Result<usize, usize>
    where
        T: Borrow<Q>,
    {
        self.items.binary_search_by(|probe| probe.borrow().cmp(item))
    }

    /// Whether `item` is in the set.
    #[must_use]
    pub fn contains<Q: Ord + ?Sized>(&self, item: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.search(item).is_ok()
    }

    /// Adds `item`; false if it was already there (the stored item is kept).
    pub fn insert(&mut self, item: T) -> bool {
        match self.search(&item) {
            Ok(_) => false,
            Err(index) => {
                self.items.insert(index, item);
                true
            }
        }
    }

    /// Removes `item`; false if it was not there.
    pub fn remove<Q: Ord + ?Sized>(&mut self, item: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        match self.search(item) {
            Ok(index) => {
                self.items.remove(index);
                true
            }
            Err(_) => false,
        }
    }
}

impl<'a, T> IntoIterator for &'a VecSet<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<T> IntoIterator for VecSet<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<T: Ord> FromIterator<T> for VecSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut items: Vec<T> = iter.into_iter().collect();
        sort(&mut items);
        items.dedup();
        VecSet { items }
    }
}

impl<T: Ord, const N: usize> From<[T; N]> for VecSet<T> {
    fn from(items: [T; N]) -> Self {
        items.into_iter().collect()
    }
}

impl<T: Ord> Extend<T> for VecSet<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for item in iter {
            self.insert(item);
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for VecSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<T: Serialize> Serialize for VecSet<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for item in self {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

impl<'de, T: Deserialize<'de> + Ord> Deserialize<'de> for VecSet<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SetVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de> + Ord> Visitor<'de> for SetVisitor<T> {
            type Value = VecSet<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut set = VecSet::new();
                while let Some(item) = access.next_element()? {
                    set.insert(item);
                }
                Ok(set)
            }
        }

        deserializer.deserialize_seq(SetVisitor(std::marker::PhantomData))
    }
}

/// Sorts `items` stably (equal items keep their order) by `compare`, in O(n log n).
///
/// The standard library's sorts are fast but large: each element type gets its own copy of
/// driftsort or ipnsort with their small-sort networks (~5-11 KB each in WebAssembly, 70 KB
/// over the core's call sites). This sorts a permutation of `u32` indexes with one shared,
/// non-generic heapsort (ties broken by index, which makes it stable) and then moves the items
/// once, so each call site adds only its comparison and the move.
pub fn sort_by<T>(items: &mut [T], compare: impl Fn(&T, &T) -> Ordering) {
    if items.len() < 2 || items.windows(2).all(|pair| compare(&pair[0], &pair[1]) != Ordering::Greater) {
        return;
    }
    assert!(u32::try_from(items.len()).is_ok(), "sort_by: at most u32::MAX items");
    let mut order: Vec<u32> = (0..items.len() as u32).collect();
    {
        let items = &*items;
        let mut less = |a: u32, b: u32| match compare(&items[a as usize], &items[b as usize]) {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal => a < b,
        };
        heapsort(&mut order, &mut less);
    }
    // Position i takes the item now at order[i]: follow each cycle of the permutation with
    // swaps, marking placed positions with u32::MAX.
    for start in 0..order.len() {
        let mut at = start;
        while order[at] != u32::MAX {
            let from = order[at] as usize;
            order[at] = u32::MAX;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

/// Sorts `items` stably by an owned key (see [`sort_by`]).
pub fn sort_by_key<T, K: Ord>(items: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `items` by their order (see [`sort_by`]).
pub fn sort<T: Ord>(items: &mut [T]) {
    sort_by(items, T::cmp);
}

/// Heapsort of indexes under a strict total order `less` (no two indexes compare equal).
fn heapsort(order: &mut [u32], less: &mut dyn FnMut(u32, u32) -> bool) {
    fn sift_down(order: &mut [u32], mut node: usize, end: usize, less: &mut dyn FnMut(u32, u32) -> bool) {
        loop {
            let mut child = 2 * node + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && less(order[child], order[child + 1]) {
                child += 1;
            }
            if !less(order[node], order[child]) {
                return;
            }
            order.swap(node, child);
            node = child;
        }
    }
    let len = order.len();
    for node in (0..len / 2).rev() {
        sift_down(order, node, len, less);
    }
    for end in (1..len).rev() {
        order.swap(0, end);
        sift_down(order, 0, end, less);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    #[test]
    fn map_entry_api_matches_btreemap() {
        let mut map: VecMap<String, i32> = VecMap::new();
        *map.entry("b".to_owned()).or_insert(0) += 2;
        *map.entry("a".to_owned()).or_default() += 1;
        map.entry("b".to_owned()).and_modify(|value| *value *= 10).or_insert(99);
        assert_eq!(map.get("b"), Some(&20));
        assert_eq!(map["a"], 1);
        assert_eq!(map.keys().cloned().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(map.remove("a"), Some(1));
        assert_eq!(map.len(), 1);
        assert_eq!(format!("{map:?}"), r#"{"b": 20}"#);
    }

    #[test]
    fn range_bounds_match_btreemap() {
        let map: VecMap<i64, ()> = (0..10).map(|key| (key * 2, ())).collect();
        let reference: BTreeMap<i64, ()> = (0..10).map(|key| (key * 2, ())).collect();
        for start in -1..21 {
            for end in start..22 {
                let got: Vec<_> = map.range(start..end).map(|(key, _)| *key).collect();
                let want: Vec<_> = reference.range(start..end).map(|(key, _)| *key).collect();
                assert_eq!(got, want, "{start}..{end}");
                let got: Vec<_> = map.range(start..=end).map(|(key, _)| *key).collect();
                let want: Vec<_> = reference.range(start..=end).map(|(key, _)| *key).collect();
                assert_eq!(got, want, "{start}..={end}");
            }
            let got: Vec<_> = map.range((Bound::Excluded(start), Bound::Unbounded)).map(|(key, _)| *key).collect();
            let want: Vec<_> =
                reference.range((Bound::Excluded(start), Bound::Unbounded)).map(|(key, _)| *key).collect();
            assert_eq!(got, want, "({start}..");
        }
    }

    #[test]
    fn serde_shape_is_a_map_like_btreemap() {
        let map: VecMap<String, u32> = [("z".to_owned(), 1), ("a".to_owned(), 2)].into();
        let json = serde_json::to_string(&map).unwrap();
        assert_eq!(json, r#"{"a":2,"z":1}"#);
        let back: VecMap<String, u32> = serde_json::from_str(r#"{"z":1,"a":2,"a":3}"#).unwrap();
        assert_eq!(back.iter().map(|(k, v)| (k.as_str(), *v)).collect::<Vec<_>>(), [("a", 3), ("z", 1)]);
        let set: VecSet<u32> = serde_json::from_str("[3,1,3,2]").unwrap();
        assert_eq!(serde_json::to_string(&set).unwrap(), "[1,2,3]");
    }

    proptest! {
        #[test]
        fn map_matches_btreemap(ops in proptest::collection::vec((0u8..4, 0u16..64, any::<u32>()), 0..300)) {
            let mut map = VecMap::new();
            let mut reference = BTreeMap::new();
            for (op, key, value) in ops {
                match op {
                    0 => prop_assert_eq!(map.insert(key, value), reference.insert(key, value)),
                    1 => prop_assert_eq!(map.remove(&key), reference.remove(&key)),
                    2 => { *map.entry(key).or_insert(value) ^= 1; *reference.entry(key).or_insert(value) ^= 1; }
                    _ => { map.retain(|k, _| k % 7 != key % 7); reference.retain(|k, _| k % 7 != key % 7); }
                }
                prop_assert!(map.iter().eq(reference.iter()));
                prop_assert_eq!(map.get(&key), reference.get(&key));
            }
            let collected: VecMap<u16, u32> = reference.iter().rev().map(|(k, v)| (*k, *v)).collect();
            prop_assert!(collected.iter().eq(reference.iter()));
        }

        #[test]
        fn set_matches_btreeset(items in proptest::collection::vec(0u8..40, 0..200), removals in proptest::collection::vec(0u8..40, 0..50)) {
            let mut set: VecSet<u8> = items.iter().copied().collect();
            let mut reference: BTreeSet<u8> = items.iter().copied().collect();
            for item in removals {
                prop_assert_eq!(set.remove(&item), reference.remove(&item));
                prop_assert_eq!(set.insert(item / 2), reference.insert(item / 2));
            }
            prop_assert!(set.iter().eq(reference.iter()));
        }

        #[test]
        fn counts_match_a_btreemap_count(keys in proptest::collection::vec(0u8..30, 0..300)) {
            let mut reference: BTreeMap<u8, u64> = BTreeMap::new();
            for key in &keys {
                *reference.entry(*key).or_default() += 1;
            }
            prop_assert!(counts(keys).iter().eq(reference.iter()));
        }

        #[test]
        fn sort_is_stable_like_std(items in proptest::collection::vec((0u8..8, any::<u16>()), 0..300)) {
            let mut ours = items.clone();
            sort_by_key(&mut ours, |item| item.0);
            let mut std_sorted = items;
            std_sorted.sort_by_key(|item| item.0);
            prop_assert_eq!(ours, std_sorted);
        }
    }
}
