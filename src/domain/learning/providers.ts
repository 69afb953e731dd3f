/**
 * Training providers and their programmes. A provider teaches toward the programmes it is linked to
 * by a `trainingProvPrograms` record; its offerings and its students' registrations count toward
 * those programmes only. Pure: the services load the links and the records and ask these rules.
 */
export interface ProviderScoped {
  training_provider_id?: string;
}

export interface FieldProblem {
  field: string;
  reason: string;
}

/** provider id -> the programmes it is linked to. */
export type ProviderPrograms = Map<string, Set<string>>;

export function providerPrograms(links: Record<string, unknown>[]): ProviderPrograms {
  const m: ProviderPrograms = new Map();
  for (const l of links) {
    if (typeof l.training_provider_id !== 'string' || typeof l.program_id !== 'string') continue;
    let s = m.get(l.training_provider_id);
    if (!s) m.set(l.training_provider_id, (s = new Set()));
    s.add(l.program_id);
  }
  return m;
}

/** An offering of a provider may only name programmes the provider is linked to. */
export function offeringProgramProblems(offering: ProviderScoped & { program_ids?: string[] }, links: ProviderPrograms): FieldProblem[] {
  const provider = offering.training_provider_id;
  if (!provider) return [];
  const linked = links.get(provider) ?? new Set<string>();
  return (offering.program_ids ?? []).flatMap((p, i) =>
    linked.has(p)
      ? []
      : [
          {
            field: `program_ids.${i}`,
            reason: `training provider ${provider} is not linked to programme ${p} (no trainingProvPrograms record)`,
          },
        ],
  );
}

/**
 * The provider a registration belongs to: its own, else its offering's. A registration naming a
 * provider other than its offering's is inconsistent (the offering's provider teaches it).
 */
export function registrationProvider(
  reg: ProviderScoped,
  offering: Record<string, unknown> | undefined,
): { provider?: string; problem?: FieldProblem } {
  const own = reg.training_provider_id;
  const theirs = typeof offering?.training_provider_id === 'string' ? offering.training_provider_id : undefined;
  if (own && theirs && own !== theirs) {
    return {
      provider: own,
      problem: { field: 'training_provider_id', reason: `is ${own} but the offering belongs to training provider ${theirs}` },
    };
  }
  return { provider: own ?? theirs };
}

/** Whether work done with `provider` (undefined: no provider, the body's own) counts toward `programId`. */
export function countsToward(provider: string | undefined, programId: string | undefined, links: ProviderPrograms): boolean {
  if (!provider || !programId) return true;
  return links.get(provider)?.has(programId) ?? false;
}

/** A registration must be for what its offering offers (the same course or exam). */
export function offeringMatchProblem(field: string, regValue: unknown, offeringValue: unknown, what: string): FieldProblem | null {
  if (typeof offeringValue !== 'string' || typeof regValue !== 'string' || regValue === offeringValue) return null;
  return { field, reason: `is ${regValue} but the ${what} is for ${offeringValue}` };
}
