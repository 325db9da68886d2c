//! Exit code classes, the backoff after a success, and the restart budget:
//! read from a spec, and rejected when wrong.

use super::*;

#[test]
fn exit_classes_success_curve_and_budget() {
    let spec = ok(&format!(
        "restart_budget: {{ rate: 300/m, burst: 50 }}\n{}",
        api(
            "    exit_codes: { success: [0, 143], no_restart: [78] }\n    success_backoff: { initial: 0s, factor: 1.0, max: 1s, jitter: 0 }\n"
        )
    ));
    let budget = spec.restart_budget.unwrap();
    assert_eq!((budget.rate, budget.burst), (5.0, 50));
    let s = &spec.services[&name("api")];
    assert_eq!(s.exit_codes, ExitCodesSpec { success: vec![0, 143], no_restart: vec![78] });
    assert_eq!(s.success_backoff.unwrap().max, secs(1));
    let spec = ok(&format!("restart_budget: {{ rate: 20/s }}\n{}", api("")));
    assert_eq!(spec.restart_budget.unwrap().burst, 20, "one second's worth by default");
    let spec = ok(&api(""));
    assert_eq!(spec.restart_budget, None);
    assert_eq!(spec.services[&name("api")].exit_codes, ExitCodesSpec::default());
}

rejects! {
    budget_rate_without_unit: format!("restart_budget: {{ rate: 20/d }}\n{}", api(""))
        => "ward.yaml:1:25: restart_budget.rate: invalid rate the string `20/d`, expected a rate like 20/s, 300/m or 1000/h (more than 0)";
    exit_code_in_both_lists: api("    exit_codes: { success: [0, 78], no_restart: [78] }\n")
        => "ward.yaml:5:49: services.api.exit_codes.no_restart: exit code 78 is in both success and no_restart, expected it in one of them";
    exit_code_out_of_range: api("    exit_codes: { no_restart: [300] }\n")
        => "ward.yaml:5:32: services.api.exit_codes.no_restart[0]: expected a whole number from 0 to 255, found the number 300";
    success_backoff_checked_like_backoff: api("    success_backoff: { jitter: 2 }\n")
        => "ward.yaml:5:32: services.api.success_backoff.jitter: jitter 2.0 is out of range, expected at least 0 and less than 1";
}
