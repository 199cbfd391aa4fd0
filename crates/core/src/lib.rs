//! # onetrip-core
//!
//! The domain of a government service hall (政务服务中心) and its storage. It never depends on
//! tauri: the desktop shell, the hall server and the `onetrip` CLI are thin transports over the
//! same operations.
//!
//! Map:
//! - [`op`]: the operation contract (typed request → typed response or coded error), access
//!   control, and the runner that makes every write leave exactly one audit row and one event.
//! - [`store`]: SQLite file, pragmas, versioned migrations, backups.
//! - [`hall`]: the hall, its windows and business categories.
//! - [`staff`]: accounts, roles, sign-in at a window, sessions.
//! - [`queue`]: tickets, calling, the public display's data, ratings and their follow-ups.
//! - [`calendar`]: the working-day calendar (holiday notices, local overrides, versions).
//! - [`catalog`]: service items and their materials.
//! - [`cases`]: accepted cases, their append-only event log, alerts and figures.
//! - [`deadlines`]: the pure deadline and warning-level function (限时办结).
//! - [`applications`]: materials checked at the window, the one-time notice, acceptance,
//!   rejection, supplements and the art. 32 five-day clock.
//! - [`posts`]: posts, A/B assignments, absences and the AB guard (handover in progress).
//! - [`notices`]: issued notices (numbers, archive copies), templates, printing settings.
//! - [`reports`]: the figures (queue, cases, ratings, AB posts), drill-downs, xlsx and PDF
//!   exports, and the daily/weekly/monthly reports filed on schedule.
//! - [`privacy`]: how long applicants' personal data is kept, and the purge that anonymises it.
//! - [`audit`]: the append-only, hash-chained audit log.
//! - [`messages`]: messages to applicants' phones: templates, opt-outs, gateway settings, the
//!   outbox screen.
//! - [`devices`]: kiosks and displays registered for hall mode, with scoped device tokens.
//! - [`demo`]: the demo hall used by `make run` and the end-to-end suites.
//!
//! Every operation is listed once, in [`for_each_operation!`]; the Tauri commands, the
//! TypeScript bindings and the JSON dispatcher ([`execute_json`]) are generated from that list.

pub mod app;
pub mod applications;
pub mod audit_log;
pub mod bindings;
pub mod calendar;
pub mod cases;
pub mod catalog;
pub mod deadlines;
pub mod devices;
pub mod face;
pub mod hall;
pub mod handover;
pub mod kernel;
pub mod messages;
pub mod notices;
pub mod posts;
pub mod privacy;
pub mod queue;
pub mod reports;
pub mod staff;

// The kernel's modules under their short names, for the transports and tests.
pub use kernel::{audit, clock, error, event, ids, numbers, op, outbox, store, validate};

pub use app::{demo, open, open_file};
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{CoreError, ErrorCode, Result};
pub use event::{HallEvent, Topic};
pub use op::{Access, Actor, Caller, Credential, DeviceKind, OpInfo, Operation, Outcome};
pub use store::{OpenReport, Store};

/// The build's version, shown by `onetrip version` and the app's About.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Calls `$m! { command_name => RequestType, … }` with every operation. The command name is the
/// operation's `NAME` with `_` for `.` (checked by a test).
#[macro_export]
macro_rules! for_each_operation {
    ($m:ident) => {
        $m! {
            hall_get => $crate::hall::GetHall,
            hall_update => $crate::hall::UpdateHall,
            hall_board => $crate::queue::GetHallBoard,
            category_list => $crate::hall::ListCategories,
            category_create => $crate::hall::CreateCategory,
            category_update => $crate::hall::UpdateCategory,
            category_set_active => $crate::hall::SetCategoryActive,
            window_list => $crate::hall::ListWindows,
            window_create => $crate::hall::CreateWindow,
            window_update => $crate::hall::UpdateWindow,
            window_set_active => $crate::hall::SetWindowActive,
            staff_list => $crate::staff::ListStaff,
            staff_create => $crate::staff::CreateStaff,
            staff_update => $crate::staff::UpdateStaff,
            staff_set_face => $crate::staff::SetStaffFace,
            staff_set_active => $crate::staff::SetStaffActive,
            staff_reset_password => $crate::staff::ResetStaffPassword,
            staff_import => $crate::staff::import::ImportStaff,
            auth_sign_in => $crate::staff::auth::SignIn,
            auth_sign_out => $crate::staff::auth::SignOut,
            auth_change_password => $crate::staff::auth::ChangePassword,
            auth_whoami => $crate::staff::auth::WhoAmI,
            auth_release_window => $crate::staff::auth::ReleaseWindow,
            audit_list => $crate::audit_log::ListAudit,
            queue_settings => $crate::queue::GetQueueSettings,
            queue_update_settings => $crate::queue::UpdateQueueSettings,
            message_templates => $crate::messages::ListMessageTemplates,
            message_update_template => $crate::messages::UpdateMessageTemplate,
            message_preview => $crate::messages::PreviewMessage,
            message_settings => $crate::messages::GetMessageSettings,
            message_update_settings => $crate::messages::UpdateMessageSettings,
            message_opt_out => $crate::messages::SetOptOut,
            outbox_list => $crate::messages::ListOutbox,
            outbox_retry => $crate::messages::RetryMessage,
            ticket_issue => $crate::queue::IssueTicket,
            ticket_identify => $crate::queue::IdentifyPerson,
            ticket_slip => $crate::queue::ticket::GetTicketSlip,
            queue_board => $crate::queue::GetQueueBoard,
            queue_counter => $crate::queue::GetCounter,
            queue_call_next => $crate::queue::CallNext,
            queue_call_specific => $crate::queue::CallSpecific,
            queue_recall => $crate::queue::Recall,
            queue_start => $crate::queue::StartService,
            queue_no_show => $crate::queue::NoShow,
            queue_hold => $crate::queue::HoldTicket,
            queue_call_back => $crate::queue::CallBack,
            queue_transfer => $crate::queue::TransferTicket,
            queue_finish => $crate::queue::FinishTicket,
            queue_pause => $crate::queue::PauseWindow,
            queue_resume => $crate::queue::ResumeWindow,
            rating_submit => $crate::queue::RateTicket,
            rating_record => $crate::queue::RecordRating,
            rating_settings => $crate::queue::GetRatingSettings,
            rating_update_settings => $crate::queue::UpdateRatingSettings,
            window_face => $crate::face::GetWindowFace,
            rating_of_case => $crate::face::CaseRatings,
            rating_notice_visit => $crate::face::GetNoticeVisit,
            rating_by_notice => $crate::face::RateByNotice,
            rating_export => $crate::reports::ratings_export::ExportRatings,
            report_ratings_by_item => $crate::reports::ratings_export::RatingsByItem,
            followup_list => $crate::queue::ListFollowups,
            followup_mine => $crate::queue::MyFollowups,
            followup_verify => $crate::queue::VerifyFollowup,
            followup_close => $crate::queue::CloseFollowup,
            followup_dispute => $crate::queue::DisputeRating,
            followup_decide_dispute => $crate::queue::DecideDispute,
            calendar_status => $crate::calendar::GetCalendarStatus,
            calendar_days => $crate::calendar::ListDays,
            calendar_add_workdays => $crate::deadlines::settings::AddWorkdays,
            calendar_import => $crate::calendar::ImportYear,
            calendar_add_override => $crate::calendar::AddOverride,
            calendar_revoke_override => $crate::calendar::RevokeOverride,
            deadline_settings => $crate::deadlines::settings::GetDeadlineSettings,
            deadline_update_settings => $crate::deadlines::settings::UpdateDeadlineSettings,
            catalog_list => $crate::catalog::ListItems,
            catalog_create => $crate::catalog::CreateItem,
            catalog_update => $crate::catalog::UpdateItem,
            catalog_set_active => $crate::catalog::SetItemActive,
            catalog_export => $crate::catalog::ExportCatalog,
            catalog_import => $crate::catalog::ImportCatalog,
            case_accept => $crate::cases::AcceptCase,
            case_act => $crate::cases::ActOnCase,
            case_decide_extension => $crate::cases::DecideExtension,
            case_get => $crate::cases::GetCase,
            case_reveal => $crate::cases::RevealApplicant,
            case_list => $crate::cases::ListCases,
            case_board => $crate::cases::GetCaseBoard,
            case_stats => $crate::reports::case_stats::GetCaseStats,
            case_alerts => $crate::cases::ListAlerts,
            case_dismiss_alert => $crate::cases::DismissAlert,
            application_open => $crate::applications::OpenApplication,
            application_mark => $crate::applications::MarkMaterial,
            application_mark_all_received => $crate::applications::MarkAllReceived,
            application_decide => $crate::applications::DecideApplication,
            application_return => $crate::applications::ReturnWithSupplement,
            application_get => $crate::applications::GetApplication,
            application_list => $crate::applications::ListApplications,
            document_preview => $crate::applications::preview::PreviewDocument,
            document_file => $crate::notices::GetDocumentFile,
            catalog_service_card => $crate::notices::ServiceCard,
            notice_settings => $crate::notices::GetNoticeSettings,
            notice_update_settings => $crate::notices::UpdateNoticeSettings,
            notice_templates => $crate::notices::ListTemplates,
            notice_update_template => $crate::notices::UpdateTemplate,
            post_list => $crate::posts::ListPosts,
            post_create => $crate::posts::CreatePost,
            post_assign => $crate::posts::AssignPost,
            post_name_cover => $crate::posts::NameCover,
            post_coverage => $crate::posts::GetCoverage,
            absence_request => $crate::posts::RequestAbsence,
            absence_decide => $crate::posts::DecideAbsence,
            absence_list => $crate::posts::ListAbsences,
            post_settings => $crate::posts::GetPostSettings,
            post_update_settings => $crate::posts::UpdatePostSettings,
            handover_prepare => $crate::handover::PrepareHandover,
            handover_emergency => $crate::handover::StartEmergencyTakeover,
            handover_acknowledge => $crate::handover::AcknowledgeHandover,
            handover_annotate => $crate::handover::AnnotateHandover,
            handover_report => $crate::handover::ReportHandback,
            handover_accept_return => $crate::handover::AcceptHandback,
            handover_cancel => $crate::handover::CancelHandover,
            handover_get => $crate::handover::GetHandover,
            handover_list => $crate::handover::ListHandovers,
            handover_file => $crate::handover::HandoverFile,
            handover_figures => $crate::handover::GetHandoverFigures,
            inbox_list => $crate::staff::inbox::ListNotices,
            inbox_read => $crate::staff::inbox::MarkNoticesRead,
            audit_export => $crate::audit_log::export::ExportAudit,
            security_settings => $crate::staff::lockout::GetSecuritySettings,
            security_update_settings => $crate::staff::lockout::UpdateSecuritySettings,
            auth_unlock => $crate::staff::lockout::UnlockSignIn,
            device_register => $crate::devices::RegisterDevice,
            device_list => $crate::devices::ListDevices,
            device_revoke => $crate::devices::RevokeDevice,
            device_pairing_code => $crate::devices::NewPairingCode,
            device_pair => $crate::devices::PairDevice,
            device_pairing_qr => $crate::devices::PairingQr,
            report_figures => $crate::reports::GetFigures,
            report_drill => $crate::reports::DrillDown,
            report_settings => $crate::reports::GetReportSettings,
            report_update_settings => $crate::reports::UpdateReportSettings,
            report_export => $crate::reports::ExportReport,
            report_list => $crate::reports::filing::ListFiledReports,
            report_filed_file => $crate::reports::filing::GetFiledReport,
            privacy_settings => $crate::privacy::GetPrivacySettings,
            privacy_update_settings => $crate::privacy::UpdatePrivacySettings,
            privacy_purge => $crate::privacy::PurgePersonalData,
        }
    };
}

macro_rules! registry {
    ($($cmd:ident => $ty:ty),* $(,)?) => {
        /// Every operation, in registry order.
        pub const OPERATIONS: &[OpInfo] = &[$(OpInfo {
            name: <$ty as Operation>::NAME,
            access: <$ty as Operation>::ACCESS,
            writes: <$ty as Operation>::WRITES,
            devices: <$ty as Operation>::DEVICES,
        }),*];

        /// The registry's command identifiers, to check against `OPERATIONS[i].command()`.
        pub const COMMAND_IDENTS: &[&str] = &[$(stringify!($cmd)),*];

        /// Run an operation by name with a JSON request (the CLI and, later, HTTP).
        pub fn execute_json(
            store: &Store,
            caller: &Caller,
            now: jiff::Timestamp,
            name: &str,
            request: serde_json::Value,
        ) -> Result<(serde_json::Value, Vec<HallEvent>)> {
            $(
                if name == <$ty as Operation>::NAME {
                    let req: $ty = match serde_json::from_value(request) {
                        Ok(req) => req,
                        Err(e) => {
                            // Who may call comes before what was sent: an unauthorised caller
                            // learns nothing about request shapes. (A well-formed request is
                            // authorised inside `execute`'s own transaction, once.)
                            store.authorize(caller, now, <$ty as Operation>::ACCESS, <$ty as Operation>::DEVICES, name)?;
                            return Err(CoreError::new(ErrorCode::InvalidFormat, format!("请求格式错误（{name}）：{e}")));
                        }
                    };
                    let out = store.execute(caller, now, req)?;
                    return Ok((serde_json::to_value(out.response)?, out.events));
                }
            )*
            Err(CoreError::not_found("操作", name))
        }

        /// Each operation's name and the JSON Schemas of its request and response (the hall
        /// server's OpenAPI document is built from these).
        pub fn operation_schemas(
            generator: &mut schemars::SchemaGenerator,
        ) -> Vec<(OpInfo, schemars::Schema, schemars::Schema)> {
            let mut out = Vec::new();
            let mut infos = OPERATIONS.iter();
            $(
                if let Some(info) = infos.next() {
                    out.push((
                        *info,
                        generator.subschema_for::<$ty>(),
                        generator.subschema_for::<<$ty as Operation>::Response>(),
                    ));
                }
            )*
            out
        }

        pub(crate) fn export_operation_types(cfg: &ts_rs::Config) -> std::result::Result<Vec<bindings::OpTypes>, ts_rs::ExportError> {
            Ok(vec![$(bindings::op_types::<$ty, <$ty as Operation>::Response>(cfg)?),*])
        }
    };
}

for_each_operation!(registry);

#[cfg(test)]
mod registry_tests {
    use super::*;

    #[test]
    fn command_names_follow_operation_names() {
        assert_eq!(OPERATIONS.len(), COMMAND_IDENTS.len());
        for (info, ident) in OPERATIONS.iter().zip(COMMAND_IDENTS) {
            assert_eq!(
                &info.command(),
                ident,
                "the command for {} must be its name with _ for .",
                info.name
            );
        }
        let mut names: Vec<_> = OPERATIONS.iter().map(|o| o.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), OPERATIONS.len(), "operation names are unique");
    }
}
