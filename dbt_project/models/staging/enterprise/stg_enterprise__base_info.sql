{#- enterprise.base_info reduced to what the cleansing reads (enrichment.md §2.3): the
    findDepart payload's businessInfodto and the findLabels payload's label groups as
    jsonb, NULL when the service returned nothing to cleanse (no call, an empty dto — the
    service's "not found" —, no labels). A view, not a table: each cleansing model reads
    only the companies it cleanses. -#}
{{ config(materialized='view') }}

with

source as (

    select * from {{ source('enterprise', 'base_info') }}

),

payloads_cast as (

    select
        company_id,
        raw_business_info::jsonb -> 'businessInfodto' as business_info_dto,
        raw_biz_label::jsonb -> 'labels' as label_groups,
        api_fetched_at,
        updated_at
    from source

),

payloads_present as (

    select
        company_id,
        case
            when jsonb_typeof(business_info_dto) = 'object' and business_info_dto <> '{}'::jsonb
                then business_info_dto
        end as business_info_dto,
        case
            when jsonb_typeof(label_groups) = 'array' and label_groups <> '[]'::jsonb
                then label_groups
        end as label_groups,
        api_fetched_at,
        updated_at
    from payloads_cast

)

select * from payloads_present
