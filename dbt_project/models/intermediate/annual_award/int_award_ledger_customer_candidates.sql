{{ ledger_customer_candidates(ref('int_award_ledger_company_resolved'), '中标', '中标客户') }}
