{#- The distinct customer names of 规模明细 with their normalised form (spec §0.6,
    applied twice as the original does). Normalising distinct names only keeps the
    regular-expression work proportional to the number of customers, not rows. -#}
{{ distinct_names_normalised(ref('stg_annuity_performance__scale_detail'), '客户名称') }}
