{#- The verdict on every award-ledger row; its data tests gate customer.中标客户明细. -#}
{{ ledger_resolved(ref('int_award_ledger_cleaned'), ref('stg_annual_award__company_resolution'), '中标日期') }}
