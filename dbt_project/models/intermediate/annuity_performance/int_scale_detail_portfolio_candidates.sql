{{ portfolio_candidates(ref('int_scale_detail_company_resolved')) }}
