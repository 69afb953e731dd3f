import { effectiveStatus, standing as standingOn, type StandingFacts } from '../lifecycle/standing.js';
import { verdict } from './verification.js';
import { longDate, standingInWords } from './wording.js';

/**
 * The PDF certificate as plain decisions (services/certificates.ts draws them with pdfkit):
 * - which certification gets one (certificateStanding): retired → no; without a number (never
 *   activated) → no; every other one does, and one that is not valid today carries its standing in
 *   words, so that a printout never claims more than the record;
 * - what the programme's certificate_design may say (designProblem: the body's placeholders);
 * - what goes where on the page (certificateLayout): the design's members over the defaults, the
 *   board's logo in a box at the top, the QR code in the bottom corner, a signature line when a
 *   signatory is named.
 */

// ---------------------------------------------------------------------------------------------
// Which certification gets a certificate

export interface CertificateCertification extends StandingFacts {
  number?: unknown;
}

export type CertificateStanding =
  | { printable: true /** printed when the certification is not valid today */; standingNote?: string }
  | { printable: false; reason: string };

/** Whether certification `c` gets a certificate on `today` (YYYY-MM-DD), and the note it then carries. */
export function certificateStanding(c: CertificateCertification, today: string): CertificateStanding {
  if (c.status === 'retired') return { printable: false, reason: 'is retired: it has no certificate' };
  if (typeof c.number !== 'number') return { printable: false, reason: 'has no certificate number yet (it was never activated)' };
  const st = standingOn(c, today);
  const words = standingInWords({
    valid: verdict(c as { status?: string }, today).valid,
    status: String(effectiveStatus(c, today)),
    ...(st ? { standing: st } : {}),
    ...(typeof c.expiration_date === 'string' ? { expiration_date: c.expiration_date } : {}),
    ...(typeof c.grace_period_end_date === 'string' ? { grace_period_end_date: c.grace_period_end_date } : {}),
  });
  if (words.word === 'current' || words.word === 'in_grace') return { printable: true };
  return { printable: true, standingNote: `${words.label} on ${longDate(today)}: ${words.sentence}` };
}

// ---------------------------------------------------------------------------------------------
// The programme's design

/** programs.certificate_design (src/resources/programs.ts), as the layout reads it. */
export interface CertificateDesign {
  title?: string;
  statement?: string;
  body?: string;
  signatory_name?: string;
  signatory_title?: string;
  accent_color?: string;
  orientation?: 'landscape' | 'portrait';
}

/** Member bounds, declared once for the schema and the layout. */
export const DESIGN_LIMITS = { title: 120, statement: 120, body: 600, signatory_name: 100, signatory_title: 100 } as const;

/** The placeholders the body may use, each filled from the certification. */
export const BODY_PLACEHOLDERS = ['holder', 'number', 'program', 'board', 'certification_date', 'expiration_date'] as const;
export type BodyPlaceholder = (typeof BODY_PLACEHOLDERS)[number];

// `{{ name }}`: a name of letters and underscores; any other use of double braces is refused
const PLACEHOLDER = /\{\{\s*([A-Za-z_]+)\s*\}\}/g;

/**
 * The body's placeholders, checked on write: a plain substitution of a fixed set (no Handlebars: the
 * body is printed text, not HTML, and needs neither helpers nor escaping). The reason names the member.
 */
export function designProblem(design: unknown): { field: string; reason: string } | undefined {
  const body = (design as CertificateDesign | undefined)?.body;
  if (typeof body !== 'string') return undefined;
  const known = new Set<string>(BODY_PLACEHOLDERS);
  const list = BODY_PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ');
  for (const m of body.matchAll(PLACEHOLDER)) {
    if (!known.has(m[1]!)) return { field: 'body', reason: `uses {{${m[1]}}}, which is not a placeholder (the placeholders are ${list})` };
  }
  const rest = body.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}'))
    return { field: 'body', reason: `has "{{" or "}}" outside a placeholder (the placeholders are ${list})` };
  return undefined;
}

/** The body with its placeholders filled (checked on write; an unknown one is left as written). */
export function fillBody(body: string, values: Record<BodyPlaceholder, string>): string {
  return body.replace(PLACEHOLDER, (whole, name: string) => (Object.hasOwn(values, name) ? values[name as BodyPlaceholder] : whole));
}

// ---------------------------------------------------------------------------------------------
// The page

export interface CertificateContent {
  /** The programme's name. */
  program: string;
  board: string;
  holder: string;
  number: number;
  certificationDate?: string;
  expirationDate?: string;
  standingNote?: string;
  design?: CertificateDesign;
  /** The logo's size in pixels, when the board has one (its aspect decides its box). */
  logo?: { width: number; height: number };
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface TextBlock extends Box {
  role: 'board' | 'title' | 'statement' | 'holder' | 'number' | 'dates' | 'body' | 'standing' | 'signatory_name' | 'signatory_title';
  text: string;
  size: number;
  bold: boolean;
  color: string;
  align: 'center' | 'left';
}

export interface CertificateLayout {
  orientation: 'landscape' | 'portrait';
  /** A4 in points. */
  page: { width: number; height: number };
  accent: string;
  /** The frame around the page. */
  frame: Box;
  logo?: Box;
  texts: TextBlock[];
  /** The signature line, above the signatory's name. */
  signatureLine?: { x1: number; x2: number; y: number };
  qr: Box;
  /** The written verify address, beside the QR code. */
  verify: Box;
}

/** How tall `text` is at `size` in `width` (the renderer's font metrics). */
export type Measure = (text: string, size: number, bold: boolean, width: number) => number;

export const A4 = { short: 595.28, long: 841.89 } as const;
export const DEFAULT_ACCENT = '#0b4f8a';
export const DEFAULT_STATEMENT = 'This certifies that';
const INK = '#1a1a1a';
const ALERT = '#a4161a';
const MARGIN = 56;
const QR = 110;
const LOGO_BOX = { width: 220, height: 64 };
const SIGNATURE_WIDTH = 220;

const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/** The page's orientation (landscape unless the design says portrait): the renderer opens the page with it. */
export const certificateOrientation = (d: CertificateDesign | undefined): 'landscape' | 'portrait' =>
  d?.orientation === 'portrait' ? 'portrait' : 'landscape';

/**
 * What goes where. From the top, centred: the logo (fitted into its box, aspect kept), the board's
 * name, the title (the design's, else the programme's name), the statement (default "This certifies
 * that"), the holder, the number, the dates, the body with its placeholders filled, the standing note.
 * At the bottom: the signature line and signatory on the left, above the written verify address, and
 * the QR code in the right corner. Each text gets the height it needs (the body at most eight lines);
 * when the flow would run into the bottom band (long members, a logo, a standing note) it is set again
 * in smaller type, so that names, title and standing are printed in full; the flow then sits in the
 * middle of the space above the band.
 */
/** The design's accent colour (#rrggbb, lower case), else the default blue. */
export const certificateAccent = (d: CertificateDesign | undefined): string =>
  d?.accent_color && /^#[0-9a-fA-F]{6}$/.test(d.accent_color) ? d.accent_color.toLowerCase() : DEFAULT_ACCENT;

export function certificateLayout(c: CertificateContent, measure: Measure): CertificateLayout {
  const d = c.design ?? {};
  const orientation = certificateOrientation(d);
  const page = orientation === 'portrait' ? { width: A4.short, height: A4.long } : { width: A4.long, height: A4.short };
  const accent = certificateAccent(d);
  const inner = page.width - 2 * MARGIN;
  const bottom = page.height - MARGIN;
  const qr: Box = { x: page.width - MARGIN - QR, y: bottom - QR, width: QR, height: QR };
  // the written address wraps (up to three lines on a portrait page): it must be readable in full
  const verify: Box = { x: MARGIN, y: bottom - 52, width: inner - QR - 24, height: 52 };
  const signatory = { name: text(d.signatory_name), title: text(d.signatory_title) };
  const hasSignatory = Boolean(signatory.name || signatory.title);
  // the flow ends above the bottom band: the QR code, and the signature block when there is one
  const flowEnd = Math.min(qr.y, hasSignatory ? verify.y - 64 : verify.y) - 10;

  let logo: Box | undefined;
  let top = MARGIN + 8;
  if (c.logo && c.logo.width > 0 && c.logo.height > 0) {
    // the box the logo is fitted into, centred, shrunk to the logo's aspect
    const scale = Math.min(LOGO_BOX.width / c.logo.width, LOGO_BOX.height / c.logo.height);
    const width = c.logo.width * scale;
    const height = c.logo.height * scale;
    logo = { x: (page.width - width) / 2, y: top, width, height };
    top += LOGO_BOX.height + 10;
  }
  const program = text(c.program) ?? 'Certificate';
  const holder = text(c.holder) ?? '';
  const certified = longDate(c.certificationDate);
  const expires = longDate(c.expirationDate);
  const body = text(d.body);
  // [role, text, size, bold, most lines (the body only: every other text is set in full), gap after, colour];
  // the standing note before the body
  const blocks: (readonly [TextBlock['role'], string, number, boolean, number, number, string])[] = [
    ['board', text(c.board) ?? '', 16, true, 0, 10, INK],
    ['title', text(d.title) ?? program, orientation === 'portrait' ? 28 : 30, true, 0, 12, accent],
    ['statement', text(d.statement) ?? DEFAULT_STATEMENT, 14, false, 0, 6, INK],
    ['holder', holder, 28, true, 0, 8, INK],
    ['number', `holds certificate number ${c.number}`, 14, false, 0, 4, INK],
    [
      'dates',
      [...(certified ? [`Certified on ${certified}`] : []), expires ? `Expires on ${expires}` : 'Does not expire'].join('    ·    '),
      13,
      false,
      0,
      10,
      INK,
    ],
    ...(c.standingNote ? [['standing', c.standingNote, 13, true, 0, 8, ALERT] as const] : []),
    ...(body
      ? [
          [
            'body',
            fillBody(body, {
              holder,
              number: String(c.number),
              program,
              board: text(c.board) ?? '',
              certification_date: certified ?? '',
              expiration_date: expires ?? 'no expiration date',
            }),
            12,
            false,
            8,
            0,
            INK,
          ] as const,
        ]
      : []),
  ];
  // Long members on a full page: the whole flow in smaller type until it fits above the bottom band.
  // At the smallest, what still does not fit is cut at the band (the renderer ends it with an
  // ellipsis) rather than drawn over the signature or the QR code.
  const SHRINK = [1, 0.92, 0.85, 0.78, 0.7, 0.62, 0.55];
  let texts: TextBlock[] = [];
  for (const shrink of SHRINK) {
    const lastTry = shrink === SHRINK[SHRINK.length - 1];
    texts = [];
    let y = top;
    for (const [role, value, size0, bold, maxLines, gap, color] of blocks) {
      const size = Math.round(size0 * shrink * 10) / 10;
      const need = Math.max(measure(value, size, bold, inner), size * 1.25);
      const natural = maxLines ? Math.min(need, Math.ceil(size * 1.25 * maxLines)) : need;
      const height = lastTry ? Math.min(natural, Math.max(flowEnd - y, size * 1.25)) : natural;
      texts.push({ role, text: value, x: MARGIN, y, width: inner, height, size, bold, color, align: 'center' });
      y += height + gap * shrink;
    }
    const end = texts[texts.length - 1]!;
    if (end.y + end.height <= flowEnd) break;
  }
  // what is left above the bottom band goes half above the flow, half below: the text sits in the
  // middle of the page rather than under its top edge
  const last = texts[texts.length - 1]!;
  const slack = Math.max(0, Math.floor((flowEnd - (last.y + last.height)) / 2));
  if (slack > 0) {
    for (const t of texts) t.y += slack;
    if (logo) logo.y += slack;
  }

  let signatureLine: CertificateLayout['signatureLine'];
  if (hasSignatory) {
    const lineY = verify.y - 56;
    signatureLine = { x1: MARGIN, x2: MARGIN + SIGNATURE_WIDTH, y: lineY };
    let sy = lineY + 4;
    for (const [role, value, size, bold] of [
      ['signatory_name', signatory.name, 12, true],
      ['signatory_title', signatory.title, 10, false],
    ] as const) {
      if (!value) continue;
      // one line each (the renderer ends a longer one with an ellipsis)
      const height = Math.ceil(size * 1.25);
      texts.push({ role, text: value, x: MARGIN, y: sy, width: SIGNATURE_WIDTH, height, size, bold, color: INK, align: 'left' });
      sy += height + 2;
    }
  }
  return {
    orientation,
    page,
    accent,
    frame: { x: 28, y: 28, width: page.width - 56, height: page.height - 56 },
    ...(logo ? { logo } : {}),
    texts,
    ...(signatureLine ? { signatureLine } : {}),
    qr,
    verify,
  };
}
