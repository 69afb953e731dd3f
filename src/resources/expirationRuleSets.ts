import { Type } from '@sinclair/typebox';
import { defineResource, search } from './kit/define.js';
import { anyObject, bool, designed, list, num, obj, oneOf, req, str } from './kit/fields.js';

/**
 * Expiration Rule Sets: how a certification's expiration date is computed. Each rule pairs matching
 * conditions (a json-rules-engine style all/any tree) with expiration options; when no enabled rule
 * matches, default_expiration_options apply. Options: calendar terms (year start month, number of
 * years, sell-for-next-year cut-off) or anniversary terms (term length and unit, mid-month rules,
 * fixed expiration dates by start-date range), a grace period and a reinstatement window. Fields
 * complete in the reference at top level and in the nested options.
 *
 * Our choices where the reference is ambiguous:
 * - expiration_type: the reference shows "calendar" and implies "anniversary" (its options block);
 *   we accept exactly those two.
 * - condition operator: only "equal" is shown; it stays a free string (json-rules-engine operators).
 * - A condition's nested any / all are typed as objects in the reference; kept free-form.
 * - sell_for_next_month_after may be null ("always the current month").
 * - Dates inside fixed_expiration_dates and sell_for_next_year_after have no format and stay strings.
 * - The search body is not in the reference; ours is designed (ids, name, is_active).
 */
const condition = () =>
  obj({
    fact: str(),
    operator: str({
      description:
        'json-rules-engine operator; "equal" seen in the reference. The domain evaluates equal, notEqual, lessThan, lessThanInclusive, greaterThan, greaterThanInclusive, in, notIn, contains, doesNotContain',
    }),
    path: str(),
    value: designed(
      Type.Union([str(), num(), bool(), list(Type.Union([str(), num(), bool()]))]),
      'the reference shows a string; numeric comparisons and in/notIn need numbers, booleans and lists (in/notIn also accept a JSON-array or comma-separated string)',
    ),
    any: anyObject({ description: 'nested group of conditions (any = OR)' }),
    all: anyObject({ description: 'nested group of conditions (all = AND)' }),
  });

const expirationOptions = () =>
  obj({
    expiration_type: oneOf(['anniversary', 'calendar']),
    calendar_expiration_options: obj({
      start_of_calendar_year: num({ min: 1, max: 12, whole: true, description: 'month the year starts (1 = January)' }),
      sell_for_next_year_after: str({ description: 'cut-off after which a purchase counts toward the next year' }),
      number_of_years: num({ min: 1, whole: true }),
    }),
    anniversary_expiration_options: obj({
      sell_for_next_month_after: Type.Union([num({ min: 0, max: 31, whole: true }), Type.Null()], {
        description: 'day of month after which the term starts next month; null = always the current month',
      }),
      allow_mid_month_expirations: bool(),
      term_length: num({ min: 1, whole: true }),
      term_type: oneOf(['days', 'months', 'quarters', 'weeks', 'years']),
      enable_fixed_expiration_dates: bool(),
      fixed_expiration_dates: list(
        obj({
          range_start: str(),
          range_end: str(),
          expiration_date: str(),
        }),
      ),
    }),
    grace_period: num({ min: 0, whole: true, description: 'whole days (the unit is not stated in the reference)' }),
    allow_reinstatement: bool(),
    reinstatement_options: obj({
      reinstatement_period: num({ min: 0, whole: true }),
      give_renewal_pricing_during_reinstatement_period: bool(),
    }),
  });

export const expirationRuleSets = defineResource({
  slug: 'expirationRuleSets',
  name: 'Expiration Rule Sets',
  singular: 'expiration rule set',
  typeName: 'ExpirationRuleSet',
  table: 'expiration_rule_sets',
  coverage: 'fields complete (reference); expiration_type enum completed with "anniversary", search designed',
  fields: {
    name: req(str()),
    rules: list(
      obj({
        name: str(),
        matching_conditions: obj({
          all: list(condition()),
          any: list(condition()),
        }),
        is_enabled: bool(),
        expiration_options: expirationOptions(),
      }),
    ),
    default_expiration_options: req(expirationOptions()),
    is_active: bool(),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    is_active: search.anyOf('is_active'),
  },
  description: [
    'matching_conditions is a json-rules-engine style tree: all (AND) and any (OR) lists of {fact, operator, path, value}, a condition possibly nesting any / all groups.',
    'calendar: the term ends on a calendar-year boundary; start_of_calendar_year is the month the year starts (1 = January), number_of_years the term, sell_for_next_year_after the cut-off after which a purchase counts toward the next year.',
    'anniversary: the term runs term_length x term_type from the start date; sell_for_next_month_after is the day of month after which the term starts next month (null = always the current month); allow_mid_month_expirations expires on the same day of month it started.',
    'grace_period keeps the holder in good standing after expiry; allow_reinstatement + reinstatement_period allow reinstatement afterwards, optionally at renewal pricing.',
    'expiration_type accepts calendar and anniversary (only calendar is shown; anniversary is implied). The condition operator (only "equal" shown) stays a free string; the condition value accepts any JSON scalar or list of scalars.',
  ],
});
