{{ branch_candidates(ref('int_income_detail_company_resolved')) }}
