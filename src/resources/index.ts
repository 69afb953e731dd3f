import type { Resource } from './kit/define.js';
import { activities } from './activities.js';
import { activityRegProcesses } from './activityRegProcesses.js';
import { activityTypes } from './activityTypes.js';
import { appReferenceProcesses } from './appReferenceProcesses.js';
import { appReferenceTypes } from './appReferenceTypes.js';
import { appStatusReasons } from './appStatusReasons.js';
import { applicationFees } from './applicationFees.js';
import { applicationNotices } from './applicationNotices.js';
import { applicationProcesses } from './applicationProcesses.js';
import { applicationReferences } from './applicationReferences.js';
import { applications } from './applications.js';
import { billingRunActions } from './billingRunActions.js';
import { billingRuns } from './billingRuns.js';
import { billingTemplates } from './billingTemplates.js';
import { certifications } from './certifications.js';
import { coupons } from './coupons.js';
import { courseFees } from './courseFees.js';
import { courseInstructors } from './courseInstructors.js';
import { courseOfferings } from './courseOfferings.js';
import { courseRegProcesses } from './courseRegProcesses.js';
import { courseRegistrations } from './courseRegistrations.js';
import { courseTypes } from './courseTypes.js';
import { courses } from './courses.js';
import { creditTypes } from './creditTypes.js';
import { credits } from './credits.js';
import { directories } from './directories.js';
import { examFees } from './examFees.js';
import { examNotices } from './examNotices.js';
import { examOfferings } from './examOfferings.js';
import { examRegProcesses } from './examRegProcesses.js';
import { examRegistrations } from './examRegistrations.js';
import { examSites } from './examSites.js';
import { exams } from './exams.js';
import { expirationRuleSets } from './expirationRuleSets.js';
import { fees } from './fees.js';
import { instructors } from './instructors.js';
import { licenseTypes } from './licenseTypes.js';
import { notices } from './notices.js';
import { profiles } from './profiles.js';
import { programGroups } from './programGroups.js';
import { programs } from './programs.js';
import { projectTypes } from './projectTypes.js';
import { queryDefinitions } from './queryDefinitions.js';
import { recurringBillingRuns } from './recurringBillingRuns.js';
import { settings } from './settings.js';
import { statistics } from './statistics.js';
import { statusReasons } from './statusReasons.js';
import { testingFacilities } from './testingFacilities.js';
import { trainingLocations } from './trainingLocations.js';
import { trainingProvPrograms } from './trainingProvPrograms.js';
import { trainingProviders } from './trainingProviders.js';
import { invoices } from './invoices.js';
import { orders } from './orders.js';
import { payments } from './payments.js';

/** The registry: every resource the server serves, in the catalog's (alphabetical) order. */
export const RESOURCES: Resource[] = [
  activities,
  activityRegProcesses,
  activityTypes,
  appReferenceProcesses,
  appReferenceTypes,
  appStatusReasons,
  applicationFees,
  applicationNotices,
  applicationProcesses,
  applicationReferences,
  applications,
  billingRunActions,
  billingRuns,
  billingTemplates,
  certifications,
  coupons,
  courseFees,
  courseInstructors,
  courseOfferings,
  courseRegProcesses,
  courseRegistrations,
  courseTypes,
  courses,
  creditTypes,
  credits,
  directories,
  examFees,
  examNotices,
  examOfferings,
  examRegProcesses,
  examRegistrations,
  examSites,
  exams,
  expirationRuleSets,
  fees,
  instructors,
  licenseTypes,
  notices,
  profiles,
  programGroups,
  programs,
  projectTypes,
  queryDefinitions,
  recurringBillingRuns,
  settings,
  statistics,
  statusReasons,
  testingFacilities,
  trainingLocations,
  trainingProvPrograms,
  trainingProviders,
  // designed, not in the catalog: what billing runs bill training providers
  invoices,
  // designed, not in the catalog: what people and providers owe, and what they paid (issue 20)
  orders,
  payments,
];

export const tableSpecs = () => RESOURCES.map((r) => r.table);
