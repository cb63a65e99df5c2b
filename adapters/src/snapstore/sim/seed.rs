//! A MAAS-like store for tests and the sandbox: `maas` and `maas-test-db`
//! with track `3.6` (the default) beside `3.5` and `latest`; 3.5.4 in
//! `3.5/stable`; a beta build set (amd64, arm64, ppc64el, s390x) of
//! `3.6.0~beta1-17580-g.1a2b3c4d5` in `3.6/beta/release-prep`; a newer
//! amd64-only build in `3.6/edge`.

use super::SnapStoreSim;

/// MAAS's real snap-id (canonical/maas `utilities/release-status`).
pub const MAAS_SNAP_ID: &str = "shY22YTZ3RhJJDOj0MfmShTNZTEb1Jiq";
/// Made up for the simulator.
pub const MAAS_TEST_DB_SNAP_ID: &str = "tDbSimulatedSnapId00000000000001";
pub const ARCHES: [&str; 4] = ["amd64", "arm64", "ppc64el", "s390x"];
pub const BETA1_VERSION: &str = "3.6.0~beta1-17580-g.1a2b3c4d5";

impl SnapStoreSim {
    /// The MAAS-like store described above. Revision numbers:
    /// `maas` 3.5.4 = 41000..=41003, beta1 = 41650..=41653 (arch order as
    /// [`ARCHES`]), edge = 41700 (amd64); `maas-test-db` 3.5.4 = 900..=903,
    /// beta1 = 950..=953.
    pub fn seed_maas(&self) {
        let tracks = ["latest", "3.5", "3.6"];
        self.add_snap("maas", MAAS_SNAP_ID, "3.6", &tracks);
        self.add_snap("maas-test-db", MAAS_TEST_DB_SNAP_ID, "3.6", &tracks);
        let sets: [(&str, u64, u64); 2] = [("maas", 41000, 41650), ("maas-test-db", 900, 950)];
        for (snap, stable, beta) in sets {
            for (i, arch) in (0u64..).zip(ARCHES) {
                self.add_revision(snap, stable + i, "3.5.4-16393-g.0c1d2e3f4", arch);
                self.seeded(snap, stable + i, "3.5/stable");
            }
            self.advance_days(1);
            for (i, arch) in (0u64..).zip(ARCHES) {
                self.add_revision(snap, beta + i, BETA1_VERSION, arch);
                self.seeded(snap, beta + i, "3.6/beta/release-prep");
            }
        }
        self.add_revision("maas", 41700, "3.6.0~beta2-17601-g.9f8e7d6c5", "amd64");
        self.seeded("maas", 41700, "3.6/edge");
    }

    fn seeded(&self, snap: &str, revision: u64, channel: &str) {
        if let Err(e) = self.release_now(snap, revision, channel) {
            unreachable!("the seed is consistent: {e}");
        }
    }
}
