{#- Award ledger rows typed and cleaned cell by cell (spec §3.2); see macros/ledger. -#}
{{ ledger_staging(source('annual_award', 'award_ledger'), '中标日期') }}
