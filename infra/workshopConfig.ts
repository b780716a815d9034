/**
 * The workshop keys of the lab's configuration (#10): a stack's role (an attendee's lab, or the
 * workshop's foundation that the attendees share), which foundation an attendee uses, the topology
 * (what the attendees share on AWS), the attendee count the foundation sizes a shared cluster for,
 * and the IAM principal an attendee gets access with. Plain functions, no Pulumi calls: infra/config.ts's
 * `parseLabConfig` applies them for the stack and the driver alike.
 *
 * With none of these keys set a stack is self-contained, exactly as before: it builds its own image
 * and (on AWS) its own VPC and cluster.
 */

/** `attendee`: one attendee's lab; `foundation`: what a workshop's attendee stacks share. */
export type Role = "attendee" | "foundation";
export const ROLES: readonly Role[] = ["attendee", "foundation"];

/**
 * What a workshop's attendees share on AWS (docs/ARCHITECTURE.md): nothing but the image
 * (`dedicated`), the VPC (`shared-network`), or VPC and cluster, each attendee a tenant of it
 * (`shared-cluster`). The local target always maps onto `shared-cluster` (its one cluster).
 */
export type Topology = "dedicated" | "shared-network" | "shared-cluster";
export const TOPOLOGIES: readonly Topology[] = ["dedicated", "shared-network", "shared-cluster"];

/** The name the driver gives the foundation's `lab:attendee` (so no attendee may take it). */
export const FOUNDATION_ATTENDEE = "foundation";

export interface WorkshopConfig {
  role: Role;
  /** The foundation stack's name (unqualified); "" = a self-contained stack. Attendees only. */
  foundation: string;
  /** As applied: on the local target always `shared-cluster`. */
  topology: Topology;
  /** How many attendees the workshop has (the foundation sizes a shared cluster for them). */
  attendees: number;
  /** IAM role/user ARN the attendee works as (EKS access entry); "" = none. */
  attendeePrincipal: string;
}

export const WORKSHOP_DEFAULTS = {
  role: "attendee" as Role,
  foundation: "",
  topology: "dedicated" as Topology,
  attendees: 1,
  attendeePrincipal: "",
};

export type WorkshopKey = keyof typeof WORKSHOP_DEFAULTS;

// A Pulumi stack name (letters, digits, '-', '_', '.'), without organization or project: the
// program qualifies it with its own (`<org>/<project>/<stack>`, as a DIY backend wants it too).
const STACK_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
// An IAM role or user ARN, as EKS access entries take them (an assumed-role session ARN is refused).
const IAM_PRINCIPAL = /^arn:aws(-cn|-us-gov|-iso|-iso-b)?:iam::\d{12}:(role|user)\/[\w+=,.@/-]{1,512}$/;

/** The context the workshop keys are checked in: the target, the attendee and lab:kubeconfig. */
export interface WorkshopContext {
  target: "aws" | "local";
  attendee: string | undefined;
  kubeconfig: string;
}

/** Validates the workshop keys (problems appended, each naming its key and the fix). */
export function parseWorkshopConfig(
  raw: Partial<Record<WorkshopKey, string>>,
  ctx: WorkshopContext,
  problems: string[],
): WorkshopConfig {
  const get = (k: WorkshopKey): string => {
    const v = raw[k];
    return v === undefined || v.trim() === "" ? String(WORKSHOP_DEFAULTS[k]) : v.trim();
  };
  const role = get("role") as Role;
  if (!ROLES.includes(role)) problems.push(`lab:role "${role}" is not one of ${ROLES.join(", ")}`);
  let topology = get("topology") as Topology;
  if (!TOPOLOGIES.includes(topology)) {
    problems.push(`lab:topology "${topology}" is not one of ${TOPOLOGIES.join(", ")}`);
    topology = WORKSHOP_DEFAULTS.topology;
  }
  const attendeesText = get("attendees");
  const attendees = Number(attendeesText);
  if (!/^\d+$/.test(attendeesText) || !Number.isSafeInteger(attendees) || attendees < 1) {
    problems.push(
      `lab:attendees "${attendeesText}" is not a positive whole number: give the workshop's attendee count, e.g. 12`,
    );
  }
  const foundation = get("foundation");
  if (foundation !== "" && !STACK_NAME.test(foundation)) {
    problems.push(
      `lab:foundation "${foundation}" is not a stack name: give the foundation stack's own name ` +
        `(letters, digits, '-', '_', '.'), e.g. ws1.foundation; the program adds the organization and project`,
    );
  }
  const attendeePrincipal = get("attendeePrincipal");
  if (attendeePrincipal !== "" && !IAM_PRINCIPAL.test(attendeePrincipal)) {
    problems.push(
      `lab:attendeePrincipal "${attendeePrincipal}" is not an IAM role or user ARN such as ` +
        `arn:aws:iam::123456789012:role/alice (for an assumed-role session, give the role's ARN)`,
    );
  }

  if (role === "foundation") {
    if (foundation !== "")
      problems.push(
        `lab:foundation is set on a foundation stack (lab:role foundation): only attendee stacks name ` +
          `their foundation; unset lab:foundation`,
      );
    if (attendeePrincipal !== "")
      problems.push(
        "lab:attendeePrincipal is set on a foundation stack: it belongs to one attendee's stack; unset it here",
      );
  } else if (foundation !== "" && ctx.attendee === FOUNDATION_ATTENDEE) {
    problems.push(
      `lab:attendee "${FOUNDATION_ATTENDEE}" is the foundation's own name: give this attendee another name`,
    );
  }
  if (ctx.target === "local") {
    // One local cluster: every attendee of a local workshop is a tenant of it.
    topology = "shared-cluster";
    if (attendeePrincipal !== "")
      problems.push(
        "lab:attendeePrincipal is an IAM principal for EKS; the local target hands out a kubeconfig " +
          "(the handoutKubeconfig output) instead: unset lab:attendeePrincipal",
      );
    if (role === "attendee" && foundation !== "" && ctx.kubeconfig === "")
      problems.push(
        "lab:foundation is set on the local target, so this attendee is a tenant of the local cluster: " +
          "set lab:kubeconfig to that cluster's kubeconfig (`lab run` passes it)",
      );
  } else if (role === "attendee" && foundation === "" && topology !== "dedicated") {
    problems.push(
      `lab:topology ${topology} shares the foundation's ${topology === "shared-cluster" ? "cluster" : "VPC"}: ` +
        "set lab:foundation to the foundation stack's name, or lab:topology dedicated for a self-contained lab",
    );
  }
  return { role, foundation, topology, attendees, attendeePrincipal };
}
