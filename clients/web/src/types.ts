// Shapes of the answers to the documents in clients/operations/ that the web client uses.

export type ProjectStatus = "PROPOSED" | "ACTIVE" | "ON_HOLD" | "COMPLETED" | "CANCELLED";
export type WatchLevel = "WATCHING" | "PARTICIPATING" | "MUTED";
export type Visibility = "SHARED" | "INTERNAL";

export interface SessionUser {
  id: string;
  name: string;
  handle: string;
  role: "ADMIN" | "STAFF" | "CUSTOMER_ADMIN" | "CUSTOMER_MEMBER";
}

export interface Connection<T> {
  totalCount?: number;
  pageInfo?: { hasNextPage: boolean; endCursor: string | null };
  edges: { node: T }[];
}

export interface HomeData {
  me: SessionUser & { customer: { id: string; name: string } | null };
  customers: Connection<{
    id: string;
    name: string;
    accountTeam: { id: string }[];
    projects: Connection<{ id: string; name: string; status: ProjectStatus; updatedAt: string }>;
  }>;
}

export interface Post {
  id: string;
  body: string;
  bodyHtml: string;
  visibility: Visibility;
  createdAt: string;
  editedAt: string | null;
  author: { id: string; name: string };
  parent: { id: string } | null;
  /** The concept page this post comments on, if any. */
  page: { id: string; title: string } | null;
  mentions: { id: string; handle: string }[];
  topics: { name: string }[];
}

export type Thread = Post & { replies: Connection<Post> };

export interface SinglePostData {
  node:
    | (Thread & {
        __typename: "Micropost";
        project: { id: string; name: string; viewerCanContribute: boolean; customer: { id: string; name: string } };
        parent: Thread | null;
      })
    | { __typename: string }
    | null;
}

export interface SearchData {
  search: Connection<{
    snippet: string;
    node:
      | { __typename: "Page"; id: string; title: string; project: { id: string; name: string } }
      | {
          __typename: "Micropost";
          id: string;
          createdAt: string;
          author: { name: string };
          project: { id: string; name: string };
          page: { id: string; title: string } | null;
        }
      | {
          __typename: "Attachment";
          id: string;
          name: string;
          attachmentPage: { id: string; title: string; project: { id: string; name: string } };
        }
      | {
          __typename: "Request";
          id: string;
          number: string;
          title: string;
          status: string;
          customer: { id: string; name: string };
        };
  }> | null;
}

export interface TopicPostsData {
  topic: {
    id: string;
    name: string;
    microposts: Connection<Post & { project: { id: string; name: string } }>;
  } | null;
}

export interface PersonData {
  node:
    | {
        __typename: "User";
        id: string;
        name: string;
        handle: string;
        role: SessionUser["role"];
        email: string | null;
        customer: { id: string; name: string } | null;
      }
    | { __typename: string }
    | null;
}

export interface InviteFormData {
  customer: {
    id: string;
    name: string;
    emailDomains: string[];
    projects: Connection<{ id: string; name: string }>;
  } | null;
}

export interface PageSummary {
  id: string;
  title: string;
  visibility: Visibility;
  revision: number;
  updatedAt: string;
}

export interface ProjectViewData {
  project: {
    id: string;
    name: string;
    status: ProjectStatus;
    descriptionHtml: string;
    allowedTransitions: ProjectStatus[];
    viewerCanContribute: boolean;
    viewerCanManage: boolean;
    viewerWatchLevel: WatchLevel | null;
    timelineCursor: string;
    customer: { id: string; name: string };
    pages: Connection<PageSummary>;
    timeline: Connection<Thread>;
  } | null;
}

interface EventBase {
  cursor: string;
  occurredAt: string;
  actor: { id: string; name: string };
}

export type TimelineEvent =
  | (EventBase & { __typename: "MicropostPosted"; micropost: Post | null })
  | (EventBase & { __typename: "MicropostEdited"; micropost: Post | null })
  | (EventBase & {
      __typename: "ProjectStatusChanged";
      fromStatus: ProjectStatus;
      toStatus: ProjectStatus;
      reason: string;
      project: { id: string; status: ProjectStatus; allowedTransitions: ProjectStatus[] };
    })
  | (EventBase & { __typename: "PageCreated"; page: PageSummary | null })
  | (EventBase & {
      __typename: "PageUpdated";
      revision: number;
      summary: string;
      page: PageSummary | null;
    })
  | { __typename: "ResyncRequired"; cursor: string };

export interface ProjectEventsData {
  projectTimeline: TimelineEvent;
}

export interface PageRevisionSummary {
  number: number;
  summary: string;
  createdAt: string;
  author: { name: string };
}

export interface PageData {
  id: string;
  title: string;
  body: string;
  bodyHtml: string;
  revision: number;
  visibility: Visibility;
  updatedAt: string;
  viewerWatchLevel: WatchLevel | null;
  createdBy: { name: string };
  project: {
    id: string;
    name: string;
    timelineCursor: string;
    viewerCanContribute: boolean;
    customer: { name: string };
  };
  draft: {
    baseRevision: number;
    title: string | null;
    body: string | null;
    updatedAt: string;
    proposal: MergeProposal;
  } | null;
  attachments: { id: string; name: string; version: number; size: number; downloadUrl: string }[];
  revisions: Connection<PageRevisionSummary>;
}

export interface PageDiffData {
  page: {
    id: string;
    diff: {
      fromRevision: number;
      toRevision: number;
      titleChanged: boolean;
      unified: string;
      hunks: {
        oldStart: number;
        oldLines: number;
        newStart: number;
        newLines: number;
        lines: { kind: "CONTEXT" | "ADDED" | "REMOVED"; text: string }[];
      }[];
    };
  } | null;
}

export interface ConflictHunk {
  field: string;
  baseStartLine: number;
  base: string;
  current: string;
  yours: string;
}

/** A draft merged with the page now: merged lines, and the conflicts left to choose. */
export interface MergeProposal {
  baseRevision: number;
  currentRevision: number;
  title: string | null;
  conflictCount: number;
  titleConflict: ConflictHunk | null;
  body: ({ __typename: "MergedLines"; text: string } | ({ __typename: "PageConflictHunk" } & ConflictHunk))[];
}

export interface PresenceData {
  pagePresence: { people: { user: { id: string; name: string }; editing: boolean; since: string }[] };
}

type NotificationEvent =
  | {
      __typename: "MicropostPosted" | "MicropostEdited";
      micropost: { id: string; bodyHtml: string; page: { id: string; title: string } | null } | null;
    }
  | { __typename: "ProjectStatusChanged"; fromStatus: ProjectStatus; toStatus: ProjectStatus; reason: string }
  | { __typename: "PageCreated"; page: { id: string; title: string } | null }
  | { __typename: "PageUpdated"; revision: number; summary: string; page: { id: string; title: string } | null }
  | { __typename: "ResyncRequired" }
  | RequestNotificationEvent;

/** A request's event in the inbox (RequestActivity). */
export type RequestNotificationEvent = {
  request?: { id: string; number: string; title: string } | null;
} & (
  | { __typename: "RequestStatusChanged"; requestFrom: string; requestTo: string; requestReason: string }
  | { __typename: "RequestReplied"; message: { id: string; bodyHtml: string } | null }
  | {
      __typename:
        | "RequestSubmitted"
        | "RequestAssigned"
        | "RequestDocumentAdded"
        | "RequestDueDateChanged"
        | "RequestParticipantAdded"
        | "RequestSlaWarning"
        | "RequestSlaBreached"
        | "RequestReminded";
    }
);

export interface InboxData {
  notifications: Connection<{
    id: string;
    reason: "MENTIONED" | "REPLIED" | "PARTICIPATING" | "WATCHING";
    createdAt: string;
    readAt: string | null;
    event: NotificationEvent & {
      occurredAt?: string;
      actor?: { id: string; name: string };
      project?: { id: string; name: string };
    };
  }> & { unreadCount: number };
}
