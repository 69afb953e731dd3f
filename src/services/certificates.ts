import { createRequire } from 'node:module';
import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import { AppError, notFound } from '../core/errors.js';
import type { AppServices } from '../resources/kit/context.js';
import {
  type CertificateContent,
  type CertificateDesign,
  certificateAccent,
  certificateLayout,
  certificateOrientation,
  certificateStanding,
} from '../domain/registry/certificate-layout.js';
import { type Logo, parseLogo } from '../domain/registry/logo.js';
import { longDate } from '../domain/registry/wording.js';
import { holderName } from '../domain/credentials/openbadge.js';

/**
 * A certification's PDF certificate (route: http/certificates.ts). What it says and where is decided
 * in domain/registry/certificate-layout.ts: the programme's certificate_design (title, statement,
 * body with placeholders, signatory, accent colour, orientation) over the defaults, the holder, the
 * licence number, the dates, the board's name and logo (settings.board_name, else the tenant id;
 * settings.board_logo) and a QR code of the public verify page
 * (/registry/{tenantId}/verify/{programId}/{number}, http/registry-pages.ts). Which certification
 * gets one is decided there too: retired or never activated → 409; suspended or lapsed → printed
 * with its standing in words.
 *
 * pdfkit draws it with DejaVu Sans (npm dejavu-fonts-ttf, subset and embedded: Latin, Greek, Cyrillic
 * names print as they are, which the standard PDF fonts cannot; nothing read from the network or the
 * system); qrcode draws the QR code as a PNG.
 */
export interface CertificateFacts extends CertificateContent {
  programId: string;
  logoImage?: Logo;
  today: string;
}

export async function certificateFacts(s: AppServices, tenantId: string, id: string): Promise<CertificateFacts> {
  const db = s.store.db;
  const cert = await s.resource('certifications').table.get(db, tenantId, id);
  if (!cert) throw notFound('certification', id);
  const today = s.clock.now().toISOString().slice(0, 10);
  const verdict = certificateStanding(cert, today);
  if (!verdict.printable) throw new AppError('conflict', `certification ${id} ${verdict.reason}`);
  const program = await s.resource('programs').table.get(db, tenantId, String(cert.program_id));
  const settings = await s.resource('settings').table.get(db, tenantId, tenantId);
  const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  // checked on write; a stored value that no longer parses (older release) prints no logo
  const logo = settings?.board_logo === undefined ? undefined : parseLogo(settings.board_logo);
  const logoImage = logo && 'logo' in logo ? logo.logo : undefined;
  const design = program?.certificate_design;
  return {
    program: text(program?.name) ?? 'Certificate',
    holder: holderName(cert),
    number: cert.number as number,
    programId: String(cert.program_id),
    board: text(settings?.board_name) ?? tenantId,
    ...(text(cert.certification_date) ? { certificationDate: String(cert.certification_date) } : {}),
    ...(text(cert.expiration_date) ? { expirationDate: String(cert.expiration_date) } : {}),
    ...(verdict.standingNote ? { standingNote: verdict.standingNote } : {}),
    ...(design && typeof design === 'object' ? { design: design as CertificateDesign } : {}),
    ...(logoImage ? { logo: { width: logoImage.width, height: logoImage.height }, logoImage } : {}),
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

/** A pdfkit document in DejaVu Sans with the app clock's dates, and its bytes once ended. */
function pdfDocument(f: CertificateFacts, options: PDFKit.PDFDocumentOptions) {
  // dates of the document from the app clock, so the same record gives the same PDF
  const when = new Date(`${f.today}T00:00:00Z`);
  const doc = new PDFDocument({
    ...options,
    margin: 0,
    info: { Author: f.board, Subject: `Certificate ${f.number}`, CreationDate: when, ModDate: when },
  });
  doc.registerFont('Body', FONT);
  doc.registerFont('Body-Bold', FONT_BOLD);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  return { doc, done };
}

const qrPng = (url: string) => QRCode.toBuffer(url, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 8 });

/** The certificate as PDF bytes (A4, one page, in the layout certificate-layout.ts decides). */
export async function renderCertificatePdf(f: CertificateFacts, verifyUrl: string): Promise<Buffer> {
  const qr = await qrPng(verifyUrl);
  const { doc, done } = pdfDocument(f, { size: 'A4', layout: certificateOrientation(f.design) });
  const layout = certificateLayout(f, (text, size, bold, width) =>
    doc
      .font(bold ? 'Body-Bold' : 'Body')
      .fontSize(size)
      .heightOfString(text, { width, align: 'center' }),
  );
  const title = layout.texts.find((t) => t.role === 'title')?.text ?? f.program;
  doc.info.Title = `${title}: ${f.holder}`;
  const { frame } = layout;
  doc.lineWidth(3).strokeColor(layout.accent).rect(frame.x, frame.y, frame.width, frame.height).stroke();
  if (layout.logo && f.logoImage) {
    const box = layout.logo;
    // a Buffer, never a string: pdfkit reads a string that is not a data URL as a file path
    doc.image(f.logoImage.bytes, box.x, box.y, { fit: [box.width, box.height], align: 'center', valign: 'center' });
  }
  for (const t of layout.texts) {
    doc
      .fillColor(t.color)
      .font(t.bold ? 'Body-Bold' : 'Body')
      .fontSize(t.size)
      .text(t.text, t.x, t.y, { width: t.width, height: t.height, align: t.align, ellipsis: true });
  }
  if (layout.signatureLine) {
    const l = layout.signatureLine;
    doc.lineWidth(0.8).strokeColor('#1a1a1a').moveTo(l.x1, l.y).lineTo(l.x2, l.y).stroke();
  }
  doc.image(qr, layout.qr.x, layout.qr.y, { width: layout.qr.width, height: layout.qr.height });
  const v = layout.verify;
  doc.fillColor('#1a1a1a').font('Body').fontSize(10);
  doc.text('Scan to check this licence today, or open:', v.x, v.y, { width: v.width, lineBreak: false });
  // broken after a "/" where it must wrap, never at the hyphens of an id (a reader would take them for a break)
  const lines: string[] = [];
  for (const part of verifyUrl.split(/(?<=\/)/)) {
    const last = lines.length - 1;
    if (last >= 0 && doc.widthOfString(lines[last]! + part) <= v.width) lines[last] += part;
    else lines.push(part);
  }
  doc.text(lines.join('\n'), v.x, v.y + 14, { width: v.width, link: verifyUrl, underline: true, height: v.height - 14 });
  doc.end();
  return done;
}

/** ISO/IEC 7810 ID-1, the size of a bank card: 85.60 × 53.98 mm, in points. */
export const WALLET_CARD_SIZE: [number, number] = [242.65, 153.01];

/**
 * The wallet card: the licence on one bank-card-sized page, to print, cut and carry. The board (in
 * its accent colour), the programme, the holder, the number, the expiration date (or "Does not
 * expire"), the standing in red when it is not valid today, and the QR code of the verify page, so
 * that whoever is shown the card checks today's standing rather than trusting the print. A text
 * that does not fit its line is set smaller, never cut.
 */
export async function renderWalletCardPdf(f: CertificateFacts, verifyUrl: string): Promise<Buffer> {
  const qr = await qrPng(verifyUrl);
  const { doc, done } = pdfDocument(f, { size: WALLET_CARD_SIZE });
  const [W, H] = WALLET_CARD_SIZE;
  const accent = certificateAccent(f.design);
  doc.info.Title = `${f.program}: ${f.holder} (wallet card)`;
  doc
    .lineWidth(1.5)
    .strokeColor(accent)
    .roundedRect(4, 4, W - 8, H - 8, 8)
    .stroke();
  const M = 12;
  const qrSize = 74;
  const textWidth = W - 2 * M - qrSize - 6;
  /** One line of `text` at `size` or smaller, so that it fits `width`. */
  const line = (text: string, y: number, size: number, bold: boolean, color = '#1a1a1a', width = textWidth) => {
    doc.font(bold ? 'Body-Bold' : 'Body');
    let s = size;
    while (s > 5 && doc.fontSize(s).widthOfString(text) > width) s -= 0.5;
    doc.fillColor(color).fontSize(s).text(text, M, y, { width, lineBreak: false });
  };
  line(f.board, M, 8, true, accent, W - 2 * M);
  line(f.program, M + 14, 11, true);
  line(f.holder, M + 40, 12, true);
  line(`No. ${f.number}`, M + 60, 9, false);
  line(f.expirationDate ? `Expires ${longDate(f.expirationDate)}` : 'Does not expire', M + 74, 9, false);
  if (f.standingNote) line(f.standingNote, M + 90, 7, true, '#a4161a');
  doc.image(qr, W - M - qrSize, H - M - qrSize - 10, { width: qrSize, height: qrSize });
  doc.fillColor('#1a1a1a').font('Body').fontSize(6);
  doc.text('Scan to check today', W - M - qrSize, H - M - 8, { width: qrSize, align: 'center', lineBreak: false });
  doc.end();
  return done;
}
