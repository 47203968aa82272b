"""Database models (Tortoise ORM). Every model the app uses is importable from here."""

from models._base import Role, Visibility
from models.access_tokens import AccessToken, ServiceAccount
from models.attachments import Attachment
from models.business_documents import (
    CURRENCIES,
    STATUSES_BY_KIND,
    BusinessDocument,
    BusinessDocumentKind,
    BusinessDocumentStatus,
)
from models.customers import AccountTeamMembership, Customer, CustomerEmailDomain
from models.events import Event, EventKind, EventLogHorizon
from models.external_ids import ExternalId, ExternalKind
from models.idempotency import IdempotentRequest
from models.interactions import (
    ContactActivityDay,
    ContentKind,
    ContentReadCount,
    ReadingSession,
    SearchCount,
)
from models.jobs import Job, JobStatus
from models.library import (
    DocumentAcknowledgement,
    DocumentDownload,
    DocumentReminder,
    DocumentState,
    DocumentType,
    DocumentVersion,
    LibraryDocument,
    LibraryDocumentOffer,
    LibraryFolder,
    ReminderKind,
    TextStatus,
)
from models.mail import MailStatus, OutgoingMail
from models.mail_preferences import (
    MailCategory,
    MailDelivery,
    MailPreference,
    MailQuietHours,
    PendingMail,
    UsedReplyToken,
)
from models.microposts import Micropost, MicropostEdit, MicropostMention, MicropostTopic, Topic
from models.notifications import Notification, NotificationReason
from models.pages import Page, PageDraft, PageRevision
from models.persisted import PersistedDocument
from models.personal_data import ExportStatus, PersonalDataExport
from models.projects import Project, ProjectMembership, ProjectStatus, ProjectStatusChange
from models.requests import (
    BusinessCalendar,
    ExpectedDocument,
    RequestActor,
    RequestAttachment,
    RequestCounter,
    RequestMessage,
    RequestParticipant,
    RequestStatus,
    RequestStatusChange,
    RequestType,
    RequestTypeOffer,
    ServiceRequest,
    SlaPolicy,
)
from models.search import SearchDocument, SearchKind
from models.security import SecurityAlert, SecurityAlertState, SecurityRule, SeenNetwork
from models.users import (
    AuditEntry,
    Invitation,
    KnownSignInAddress,
    PasswordResetToken,
    RecoveryCode,
    RefreshToken,
    SiteSetting,
    User,
)
from models.watches import Watch, WatchLevel, WatchTargetKind
from models.webhooks import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookState,
)

__all__ = [
    "CURRENCIES",
    "STATUSES_BY_KIND",
    "AccessToken",
    "AccountTeamMembership",
    "Attachment",
    "AuditEntry",
    "BusinessCalendar",
    "BusinessDocument",
    "BusinessDocumentKind",
    "BusinessDocumentStatus",
    "ContactActivityDay",
    "ContentKind",
    "ContentReadCount",
    "Customer",
    "CustomerEmailDomain",
    "DocumentAcknowledgement",
    "DocumentDownload",
    "DocumentReminder",
    "DocumentState",
    "DocumentType",
    "DocumentVersion",
    "Event",
    "EventKind",
    "EventLogHorizon",
    "ExpectedDocument",
    "ExportStatus",
    "ExternalId",
    "ExternalKind",
    "IdempotentRequest",
    "Invitation",
    "Job",
    "JobStatus",
    "KnownSignInAddress",
    "LibraryDocument",
    "LibraryDocumentOffer",
    "LibraryFolder",
    "MailCategory",
    "MailDelivery",
    "MailPreference",
    "MailQuietHours",
    "MailStatus",
    "Micropost",
    "MicropostEdit",
    "MicropostMention",
    "MicropostTopic",
    "Notification",
    "NotificationReason",
    "OutgoingMail",
    "Page",
    "PageDraft",
    "PageRevision",
    "PasswordResetToken",
    "PendingMail",
    "PersistedDocument",
    "PersonalDataExport",
    "Project",
    "ProjectMembership",
    "ProjectStatus",
    "ProjectStatusChange",
    "ReadingSession",
    "RecoveryCode",
    "RefreshToken",
    "ReminderKind",
    "RequestActor",
    "RequestAttachment",
    "RequestCounter",
    "RequestMessage",
    "RequestParticipant",
    "RequestStatus",
    "RequestStatusChange",
    "RequestType",
    "RequestTypeOffer",
    "Role",
    "SearchCount",
    "SearchDocument",
    "SearchKind",
    "SecurityAlert",
    "SecurityAlertState",
    "SecurityRule",
    "SeenNetwork",
    "ServiceAccount",
    "ServiceRequest",
    "SiteSetting",
    "SlaPolicy",
    "TextStatus",
    "Topic",
    "UsedReplyToken",
    "User",
    "Visibility",
    "Watch",
    "WatchLevel",
    "WatchTargetKind",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookEndpoint",
    "WebhookState",
]
