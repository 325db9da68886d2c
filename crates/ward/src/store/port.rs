//! The SQLite store behind the supervisor's store port.

use super::{InstanceRow, Store};
use ward_supervisor::ports::store::{Store as StorePort, StoreResult};
use ward_supervisor::view::EventJson;

impl StorePort for Store {
    fn commit(&mut self) -> StoreResult<()> {
        Ok(Store::commit(self)?)
    }
    fn record_event(&mut self, ev: &EventJson) -> StoreResult<()> {
        Ok(Store::record_event(self, ev)?)
    }
    fn recent_events(&self, limit: u64) -> StoreResult<Vec<EventJson>> {
        Ok(Store::recent_events(self, limit)?)
    }
    fn last_seq(&self) -> StoreResult<u64> {
        Ok(Store::last_seq(self)?)
    }
    fn put_instance(&mut self, row: &InstanceRow, now_ms: u64) -> StoreResult<()> {
        Ok(Store::put_instance(self, row, now_ms)?)
    }
    fn remove_instance(&mut self, service: &str, replica: u32) -> StoreResult<()> {
        Ok(Store::remove_instance(self, service, replica)?)
    }
    fn instances(&self) -> StoreResult<Vec<InstanceRow>> {
        Ok(Store::instances(self)?)
    }
    fn clear_instances(&mut self) -> StoreResult<()> {
        Ok(Store::clear_instances(self)?)
    }
    fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(Store::meta(self, key)?)
    }
    fn set_meta(&mut self, key: &str, value: &str) -> StoreResult<()> {
        Ok(Store::set_meta(self, key, value)?)
    }
    fn set_last_good_spec(&mut self, path: &str, text: &str) -> StoreResult<()> {
        Ok(Store::set_last_good_spec(self, path, text)?)
    }
}
