//! A disk cache of function results, like joblib's `Memory`: the result of a function is
//! stored as a `.npy` file (numpy can `np.load` it) under a key made from the function's name,
//! a version string and a content hash of its array arguments.
//!
//! * Keys are layout-independent: a C-order array and its Fortran-order copy hash the same
//!   (values are hashed in logical order, with dtype and shape).
//! * Writes are atomic: the file is written under a temporary name and renamed, so a reader in
//!   another thread or process never sees a half-written file.
//! * Every entry has a checksum beside it (`.sum`) over its bytes *and its key*; a truncated or
//!   corrupted entry, or an entry file copied or renamed onto another key's name, is detected,
//!   counted in [`Stats::corrupt`], recomputed and rewritten — never returned.
//! * An optional size limit evicts the least recently used entries (a hit refreshes an entry's
//!   modification time).
//! * Temporary files left by a writer that was killed mid-write are counted in
//!   [`Memory::size_bytes`] and removed when the cache is opened or evicts, once stale (see
//!   [`STALE_TEMP_SECS`]).
//! * Any result made of arrays and scalars can be cached: arrays, scalars, tuples such as
//!   `(sign, logdet)`, parla's decompositions ([`Svd`](crate::Svd), [`Eigh`](crate::Eigh),
//!   [`Lu`](crate::Lu), …) and types of your own (see [`Cacheable`]). A single array is stored
//!   as a plain `.npy` file; a composite value as its arrays' `.npy` files one after the other.
//!
//! ```
//! use parla::memory::Memory;
//! let dir = std::env::temp_dir().join(format!("parla-doc-{}", std::process::id()));
//! let mem = Memory::new(&dir)?;
//! let a = ndarray::array![[4.0, 2.0], [2.0, 5.0]];
//! let l1 = mem.call("cholesky", "1").arg(&a).run(|| parla::cholesky(&a))?; // computed
//! let l2 = mem.call("cholesky", "1").arg(&a).run(|| parla::cholesky(&a))?; // read back
//! assert_eq!(l1, l2);
//! assert_eq!((mem.stats().misses, mem.stats().hits), (1, 1));
//! mem.clear()?;
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), parla::Error>(())
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use ndarray::{ArrayBase, Data, Dimension};
use xxhash_rust::xxh3::Xxh3;

mod value;

pub use value::{Cacheable, Decoder, Encoder};

use crate::error::{Error, Result};
use crate::scalar::Scalar;

/// Counters of what the cache did since it was opened.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Results read back from disk.
    pub hits: u64,
    /// Results computed (no valid entry).
    pub misses: u64,
    /// Entries found truncated or corrupted (then recomputed).
    pub corrupt: u64,
    /// Results that could not be written (they were still returned).
    pub write_errors: u64,
    /// Stale temporary files (left by writers that died mid-write) removed.
    pub stale_temps_removed: u64,
}

/// A cache directory. Cheap to share between threads (`&Memory` is enough).
#[derive(Debug)]
pub struct Memory {
    dir: PathBuf,
    limit: Option<u64>,
    hits: AtomicU64,
    misses: AtomicU64,
    corrupt: AtomicU64,
    write_errors: AtomicU64,
    stale_temps_removed: AtomicU64,
}

fn io_err(op: &'static str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io {
        op,
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Prefix of every file parla writes into a cache directory (`clear` removes only these).
const PREFIX: &str = "parla-";

/// What a temporary file's name holds after the entry's stem: `.tmp-<pid>-<thread>-<n>`.
const TEMP_MARK: &str = ".tmp-";

/// Seconds after which a temporary file whose writer process is gone is stale. A write takes
/// far less; the margin covers a writer on another machine sharing the directory (whose
/// process id means nothing here).
pub const STALE_TEMP_SECS: u64 = 60;

/// Seconds after which any temporary file is stale, whoever wrote it (a process id may have
/// been reused by an unrelated process).
pub const ABANDONED_TEMP_SECS: u64 = 3600;

/// First line of an entry's `.sum` file: the format of the checksum line that follows.
const SUM_FORMAT: &str = "parla-memory 2";

/// The checksum of an entry: over the format, the key, the parts' lengths and the bytes, so an
/// entry is valid only under its own key.
fn checksum(key: &str, lens: &str, bytes: &[u8]) -> u128 {
    let mut h = Xxh3::new();
    for part in [SUM_FORMAT.as_bytes(), key.as_bytes(), lens.as_bytes()] {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.update(bytes);
    h.digest128()
}

/// Whether process `pid` exists on this machine.
fn process_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 performs the existence and permission checks only; nothing is sent.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Whether the temporary file `name` (modified `age` ago) was abandoned by its writer.
fn is_stale_temp(name: &str, age: std::time::Duration) -> bool {
    let Some(rest) = name.rsplit_once(TEMP_MARK).map(|(_, r)| r) else {
        return false;
    };
    if age.as_secs() >= ABANDONED_TEMP_SECS {
        return true;
    }
    let pid = rest.split('-').next().and_then(|p| p.parse::<i32>().ok());
    age.as_secs() >= STALE_TEMP_SECS && pid.is_none_or(|p| !process_alive(p))
}

fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{}-{:?}-{n}",
        std::process::id(),
        std::thread::current().id()
    )
    .replace(['(', ')'], "")
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, then a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("{}{}", &TEMP_MARK[1..], unique_suffix()));
    let result = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

impl Memory {
    /// Opens (and creates if needed) a cache directory, and removes the stale temporary files
    /// of writers that died mid-write (see [`STALE_TEMP_SECS`]).
    ///
    /// # Errors
    /// [`Error::Io`] when the directory cannot be created.
    pub fn new(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| io_err("Memory::new", &dir, e))?;
        let mem = Memory {
            dir,
            limit: None,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            corrupt: AtomicU64::new(0),
            write_errors: AtomicU64::new(0),
            stale_temps_removed: AtomicU64::new(0),
        };
        // Housekeeping only: an unreadable directory shows up at the first real use.
        let _ = mem.remove_stale_temps();
        Ok(mem)
    }

    /// The same cache, keeping at most `bytes` on disk: after each write the least recently
    /// used entries are removed until the total fits (the entry just written is kept).
    pub fn with_size_limit(mut self, bytes: u64) -> Self {
        self.limit = Some(bytes);
        self
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the cache did so far.
    pub fn stats(&self) -> Stats {
        Stats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            corrupt: self.corrupt.load(Ordering::Relaxed),
            write_errors: self.write_errors.load(Ordering::Relaxed),
            stale_temps_removed: self.stale_temps_removed.load(Ordering::Relaxed),
        }
    }

    /// Starts a cached call of the function `name` at `version` (change the version when the
    /// function's code changes, to invalidate old results). Add the arguments with
    /// [`Call::arg`] / [`Call::arg_str`], then [`Call::run`].
    pub fn call(&self, name: &str, version: &str) -> Call<'_> {
        let mut hasher = Xxh3::new();
        for part in [name, version] {
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        let name = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        Call {
            mem: self,
            name,
            hasher,
        }
    }

    /// parla's files in the directory: `(path, name, size, modified)`.
    fn files(&self) -> Result<Vec<(PathBuf, String, u64, SystemTime)>> {
        let rd = fs::read_dir(&self.dir).map_err(|e| io_err("Memory", &self.dir, e))?;
        let mut out = Vec::new();
        for entry in rd.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if !name.starts_with(PREFIX) {
                continue;
            }
            if let Ok(meta) = entry.metadata() {
                let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                out.push((entry.path(), name, meta.len(), modified));
            }
        }
        Ok(out)
    }

    /// The entries: `(path of the .npy, bytes of .npy and .sum, last use)`.
    fn entries(&self) -> Result<Vec<(PathBuf, u64, SystemTime)>> {
        let files = self.files()?;
        let sums: std::collections::HashMap<&str, u64> = files
            .iter()
            .filter_map(|(_, n, len, _)| n.strip_suffix(".sum").map(|stem| (stem, *len)))
            .collect();
        Ok(files
            .iter()
            .filter_map(|(path, name, len, modified)| {
                let stem = name.strip_suffix(".npy")?;
                let sum_len = sums.get(stem).copied().unwrap_or(0);
                Some((path.clone(), len + sum_len, *modified))
            })
            .collect())
    }

    /// Removes the stale temporary files (see [`STALE_TEMP_SECS`]); returns how many.
    fn remove_stale_temps(&self) -> Result<u64> {
        let now = SystemTime::now();
        let mut removed = 0;
        for (path, name, _, modified) in self.files()? {
            let age = now.duration_since(modified).unwrap_or_default();
            if is_stale_temp(&name, age) && fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
        self.stale_temps_removed
            .fetch_add(removed, Ordering::Relaxed);
        Ok(removed)
    }

    /// Bytes parla's files take in the directory: the entries and any temporary files
    /// (writes in progress, or left by a writer that died).
    ///
    /// # Errors
    /// [`Error::Io`] when the directory cannot be read.
    pub fn size_bytes(&self) -> Result<u64> {
        Ok(self.files()?.iter().map(|f| f.2).sum())
    }

    /// Removes every entry parla wrote in the directory (other files are left alone).
    ///
    /// # Errors
    /// [`Error::Io`] when the directory cannot be read or a file cannot be removed.
    pub fn clear(&self) -> Result<()> {
        let rd = fs::read_dir(&self.dir).map_err(|e| io_err("Memory::clear", &self.dir, e))?;
        for entry in rd.flatten() {
            let path = entry.path();
            if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX))
            {
                match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_err("Memory::clear", &path, e)),
                }
            }
        }
        Ok(())
    }

    fn evict(&self, keep: &Path) -> Result<()> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        self.remove_stale_temps()?;
        let mut entries = self.entries()?;
        // Temporary files still present (writes in progress) count against the limit too.
        let mut total = self.size_bytes()?;
        entries.sort_by_key(|e| e.2);
        for (path, size, _) in entries {
            if total <= limit {
                break;
            }
            if path == keep {
                continue;
            }
            let _ = fs::remove_file(&path);
            let _ = fs::remove_file(path.with_extension("sum"));
            total = total.saturating_sub(size);
        }
        Ok(())
    }

    /// Reads and verifies the entry of `key`; `Err(true)` = present but unusable (corrupt,
    /// another key's, or not a `R`), `Err(false)` = absent.
    fn load<R: Cacheable>(npy: &Path, key: &str) -> std::result::Result<R, bool> {
        let bytes = fs::read(npy).map_err(|e| e.kind() != std::io::ErrorKind::NotFound)?;
        let sum = fs::read_to_string(npy.with_extension("sum")).map_err(|_| true)?;
        let mut lines = sum.lines();
        if lines.next() != Some(SUM_FORMAT) {
            return Err(true);
        }
        let mut fields = lines.next().unwrap_or("").split_whitespace();
        let (Some(hash), Some(stored_key), Some(lens)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(true);
        };
        if stored_key != key
            || u128::from_str_radix(hash, 16).ok() != Some(checksum(key, lens, &bytes))
        {
            return Err(true);
        }
        let mut parts = Vec::new();
        let mut at = 0usize;
        for len in lens.split(',') {
            let len: usize = len.parse().map_err(|_| true)?;
            let end = at
                .checked_add(len)
                .filter(|&e| e <= bytes.len())
                .ok_or(true)?;
            parts.push(&bytes[at..end]);
            at = end;
        }
        if at != bytes.len() {
            return Err(true);
        }
        let mut d = Decoder::new(&parts);
        let value = R::decode(&mut d).ok_or(true)?;
        if !d.is_done() {
            return Err(true);
        }
        Ok(value)
    }
}

/// One cached call being keyed: see [`Memory::call`].
pub struct Call<'a> {
    mem: &'a Memory,
    name: String,
    hasher: Xxh3,
}

impl std::fmt::Debug for Call<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("name", &self.name)
            .field("key", &self.key())
            .finish()
    }
}

impl Call<'_> {
    /// Adds an array argument to the key: its dtype, shape and values in logical (row-major)
    /// order, so the memory layout does not matter.
    pub fn arg<T: Scalar, S: Data<Elem = T>, D: Dimension>(mut self, a: &ArrayBase<S, D>) -> Self {
        self.hasher.update(b"array");
        self.hasher.update(T::DTYPE.as_bytes());
        self.hasher.update(&(a.ndim() as u64).to_le_bytes());
        for &d in a.shape() {
            self.hasher.update(&(d as u64).to_le_bytes());
        }
        // Values are hashed as little-endian f64, element by element in logical order.
        if let (Some(slice), true) = (
            a.as_slice(),
            T::DTYPE == "float64" && cfg!(target_endian = "little"),
        ) {
            // SAFETY: `slice` is a contiguous `[T]` with T = f64 (checked through DTYPE), whose
            // bytes on a little-endian target are exactly the little-endian encodings hashed by
            // the general path below; u8 has no alignment or validity requirements.
            let bytes = unsafe {
                std::slice::from_raw_parts(
                    slice.as_ptr().cast::<u8>(),
                    std::mem::size_of_val(slice),
                )
            };
            self.hasher.update(bytes);
            return self;
        }
        let mut buf = Vec::with_capacity(4096);
        for &x in a.iter() {
            buf.extend_from_slice(&x.as_f64().to_le_bytes());
            if buf.len() >= 4096 {
                self.hasher.update(&buf);
                buf.clear();
            }
        }
        self.hasher.update(&buf);
        self
    }

    /// Adds a text argument (a parameter, a mode) to the key.
    pub fn arg_str(mut self, s: &str) -> Self {
        self.hasher.update(b"str");
        self.hasher.update(&(s.len() as u64).to_le_bytes());
        self.hasher.update(s.as_bytes());
        self
    }

    /// The key: 32 hexadecimal digits.
    pub fn key(&self) -> String {
        format!("{:032x}", self.hasher.digest128())
    }

    /// The file an entry for this call is stored in.
    pub fn path(&self) -> PathBuf {
        self.mem
            .dir
            .join(format!("{PREFIX}{}-{}.npy", self.name, self.key()))
    }

    /// Returns the cached result for this key, or computes it with `f`, stores it, and
    /// returns it. An error from `f` is returned and nothing is stored. A result that cannot be
    /// written is still returned (and counted in [`Stats::write_errors`]).
    ///
    /// The result may be anything [`Cacheable`]: an array, a scalar, a tuple such as
    /// `(sign, logdet)`, a decomposition.
    ///
    /// ```
    /// use parla::memory::Memory;
    /// let dir = std::env::temp_dir().join(format!("parla-doc-run-{}", std::process::id()));
    /// let mem = Memory::new(&dir)?;
    /// let a = ndarray::array![[4.0, 2.0], [2.0, 5.0]];
    /// let e1 = mem.call("eigh", "1").arg(&a).run(|| parla::eigh(&a))?;
    /// let e2 = mem.call("eigh", "1").arg(&a).run(|| parla::eigh(&a))?;
    /// assert_eq!(e1, e2);
    /// let (sign, logdet) = mem.call("slogdet", "1").arg(&a).run(|| parla::slogdet(&a))?;
    /// assert_eq!((sign, logdet), parla::slogdet(&a)?);
    /// assert_eq!(mem.stats().hits, 1);
    /// mem.clear()?;
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), parla::Error>(())
    /// ```
    ///
    /// # Errors
    /// Whatever `f` returns.
    pub fn run<R, F>(self, f: F) -> Result<R>
    where
        R: Cacheable,
        F: FnOnce() -> Result<R>,
    {
        let npy = self.path();
        let key = self.key();
        match Memory::load::<R>(&npy, &key) {
            Ok(a) => {
                self.mem.hits.fetch_add(1, Ordering::Relaxed);
                // Refresh the entry for LRU eviction; failing to do so only affects eviction order.
                if let Ok(file) = fs::File::options().append(true).open(&npy) {
                    let _ = file.set_modified(SystemTime::now());
                }
                return Ok(a);
            }
            Err(true) => {
                self.mem.corrupt.fetch_add(1, Ordering::Relaxed);
            }
            Err(false) => {}
        }
        self.mem.misses.fetch_add(1, Ordering::Relaxed);
        let result = f()?;
        let mut enc = Encoder::default();
        result.encode(&mut enc);
        let written = match enc.finish() {
            Some(parts) if !parts.is_empty() => {
                let lens = parts
                    .iter()
                    .map(|p| p.len().to_string())
                    .collect::<Vec<_>>()
                    .join(",");
                let bytes = parts.concat();
                // The checksum goes first: once the .npy exists, a checksum for it exists too,
                // so a reader racing a writer sees either no entry or a complete one.
                let sum = format!(
                    "{SUM_FORMAT}\n{:032x} {key} {lens}\n",
                    checksum(&key, &lens, &bytes)
                );
                write_atomic(&npy.with_extension("sum"), sum.as_bytes()).is_ok()
                    && write_atomic(&npy, &bytes).is_ok()
            }
            _ => false,
        };
        // Eviction runs only after a successful write (`||` short-circuits).
        if !written || self.mem.evict(&npy).is_err() {
            self.mem.write_errors.fetch_add(1, Ordering::Relaxed);
        }
        Ok(result)
    }
}
