import { createRequire } from 'node:module';
import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import { AppError, notFound } from '../core/errors.js';
import type { AppServices } from '../resources/kit/context.js';
import { effectiveStatus, standing } from '../domain/lifecycle/standing.js';
import { verdict } from '../domain/registry/verification.js';
import { longDate, standingInWords } from '../domain/registry/wording.js';

/**
 * A certification's PDF certificate (route: http/certificates.ts): the programme's name as the title,
 * the holder, the licence number, the certification and expiration dates, the board's name
 * (settings.board_name, else the tenant id) and a QR code of the public verify page
 * (/registry/{tenantId}/verify/{programId}/{number}, http/registry-pages.ts).
 *
 * pdfkit draws it with DejaVu Sans (npm dejavu-fonts-ttf, subset and embedded: Latin, Greek, Cyrillic
 * names print as they are, which the standard PDF fonts cannot; nothing read from the network or the
 * system); qrcode draws the QR code as a PNG. A retired certification gets no certificate (409); a
 * suspended or lapsed one does, with its standing printed in words, so a printed copy never claims
 * more than the record. A certification without a number yet (never activated) is a 409 too.
 */
export interface CertificateFacts {
  title: string;
  holder: string;
  number: number;
  programId: string;
  board: string;
  certificationDate?: string;
  expirationDate?: string;
  /** Printed when the certification is not valid today (suspended, lapsed …). */
  standingNote?: string;
  today: string;
}

export async function certificateFacts(s: AppServices, tenantId: string, id: string): Promise<CertificateFacts> {
  const db = s.store.db;
  const cert = await s.resource('certifications').table.get(db, tenantId, id);
  if (!cert) throw notFound('certification', id);
  if (cert.status === 'retired') throw new AppError('conflict', `certification ${id} is retired: it has no certificate`);
  if (typeof cert.number !== 'number')
    throw new AppError('conflict', `certification ${id} has no certificate number yet (it was never activated)`);
  const program = await s.resource('programs').table.get(db, tenantId, String(cert.program_id));
  const settings = await s.resource('settings').table.get(db, tenantId, tenantId);
  const today = s.clock.now().toISOString().slice(0, 10);
  const st = standing(cert, today);
  const words = standingInWords({
    valid: verdict(cert, today).valid,
    status: String(effectiveStatus(cert, today)),
    ...(st ? { standing: st } : {}),
    ...(typeof cert.expiration_date === 'string' ? { expiration_date: cert.expiration_date } : {}),
    ...(typeof cert.grace_period_end_date === 'string' ? { grace_period_end_date: cert.grace_period_end_date } : {}),
  });
  const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  return {
    title: text(program?.name) ?? 'Certificate',
    holder:
      text(cert.certificate_name) ?? text(cert.name) ?? ([text(cert.first_name), text(cert.last_name)].filter(Boolean).join(' ') || ''),
    number: cert.number,
    programId: String(cert.program_id),
    board: text(settings?.board_name) ?? tenantId,
    ...(text(cert.certification_date) ? { certificationDate: String(cert.certification_date) } : {}),
    ...(text(cert.expiration_date) ? { expirationDate: String(cert.expiration_date) } : {}),
    ...(words.word === 'current' || words.word === 'in_grace'
      ? {}
      : { standingNote: `${words.label} on ${longDate(today)}: ${words.sentence}` }),
    today,
  };
}

/** The verify page of a licence, under `base` (PUBLIC_BASE_URL or the request's origin). */
export const verifyPageUrl = (base: string, tenantId: string, programId: string, number: number) =>
  `${base.replace(/\/+$/, '')}/registry/${encodeURIComponent(tenantId)}/verify/${encodeURIComponent(programId)}/${number}`;

// resolved from the package (also from the bundle in dist/, which keeps node_modules beside it)
const require = createRequire(import.meta.url);
const FONT = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
const FONT_BOLD = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf');

/** The certificate as PDF bytes (A4 landscape, one page). */
export async function renderCertificatePdf(f: CertificateFacts, verifyUrl: string): Promise<Buffer> {
  const qr = await QRCode.toBuffer(verifyUrl, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 8 });
  // dates of the document from the app clock, so the same record gives the same PDF
  const when = new Date(`${f.today}T00:00:00Z`);
  const doc = new PDFDocument({
    size: 'A4',
    layout: 'landscape',
    margin: 56,
    info: { Title: `${f.title}: ${f.holder}`, Author: f.board, Subject: `Certificate ${f.number}`, CreationDate: when, ModDate: when },
  });
  doc.registerFont('Body', FONT);
  doc.registerFont('Body-Bold', FONT_BOLD);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const W = doc.page.width;
  const H = doc.page.height;
  const inner = W - 2 * 56;
  doc
    .lineWidth(3)
    .strokeColor('#0b4f8a')
    .rect(28, 28, W - 56, H - 56)
    .stroke();
  doc.fillColor('#1a1a1a').font('Body-Bold').fontSize(16).text(f.board, 56, 64, { width: inner, align: 'center' });
  doc.font('Body-Bold').fontSize(32).text(f.title, 56, 110, { width: inner, align: 'center' });
  doc.font('Body').fontSize(14).text('This certifies that', 56, 180, { width: inner, align: 'center' });
  doc.font('Body-Bold').fontSize(28).text(f.holder, 56, 206, { width: inner, align: 'center' });
  doc.font('Body').fontSize(14).text(`holds certificate number ${f.number}`, 56, 254, { width: inner, align: 'center' });
  const lines = [
    ...(f.certificationDate ? [`Certified on ${longDate(f.certificationDate)}`] : []),
    f.expirationDate ? `Expires on ${longDate(f.expirationDate)}` : 'Does not expire',
  ];
  doc.fontSize(13).text(lines.join('    ·    '), 56, 290, { width: inner, align: 'center' });
  if (f.standingNote)
    doc.font('Body-Bold').fillColor('#a4161a').fontSize(13).text(f.standingNote, 56, 322, { width: inner, align: 'center' });
  const size = 120;
  doc.image(qr, W - 56 - size, H - 56 - size - 14, { width: size, height: size });
  doc.fillColor('#1a1a1a').font('Body').fontSize(10);
  doc.text('Scan to check this licence today, or open:', 56, H - 56 - 60, { width: inner - size - 24 });
  doc.text(verifyUrl, 56, H - 56 - 44, { width: inner - size - 24, link: verifyUrl, underline: true });
  doc.end();
  return done;
}
