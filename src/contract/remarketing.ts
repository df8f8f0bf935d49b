/**
 * Remarketable: an abandoned cart not bought later that day, with consent for advertising granted
 * (the contract's remarketing audience). One SQL condition on the columns of `abandoned_carts`
 * (or a copy of them with the same names), read by the model `remarketing_audience.sql` through
 * `{{ remarketable }}`, by the dashboard and by report.html. A conjunction: it can follow `AND` as is.
 */
export const REMARKETABLE_SQL = "NOT purchased_later AND ads_consent = 'granted'";
