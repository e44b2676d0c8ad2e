{#- The distinct customer names of 收入明细 with
    their normalised form (spec §0.6, applied twice). -#}
{{ distinct_names_normalised(ref('stg_annuity_income__income_detail'), '客户名称') }}
