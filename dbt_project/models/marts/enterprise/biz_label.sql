{#- enterprise.biz_label: one row per label of each company's findLabels answer
    (base_info.raw_biz_label, enrichment.md §2.5 and §3.2): texts trimmed, region labels
    (lv1 = 地区分类) moved up one level, a label without companyId given its siblings' or
    else the company asked for; a label repeated in the answer is kept once. Written
    into the table migrate_identity_tables created (`id`, created_at and updated_at from
    its defaults): delete+insert by company_id — a company's labels are replaced as a
    whole —, only companies without labels unless WDH_CLEANSE_FULL_REFRESH (`wdh cleanse`).
    `type` is the table's column name (enrichment.md §2.5), keyword or not. -#}
{{
    config(
        alias='biz_label',
        schema='enterprise',
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='company_id',
        full_refresh=false,
        on_schema_change='append_new_columns',
    )
}}

{%- set levels = ['lv1_name', 'lv2_name', 'lv3_name', 'lv4_name'] %}

with

base_info as (

    select
        company_id,
        label_groups
    from {{ ref('stg_enterprise__base_info') }}

),

companies_to_cleanse as (

    {{ select_companies_to_cleanse('base_info', 'label_groups') }}

),

labels_unnested as (

    select
        companies_to_cleanse.company_id as asked_for_company_id,
        label_groups.group_number,
        label_items.label_number,
        {{ clean_text("label_groups.label_group ->> 'type'") }} as label_type,
        {{ clean_text("label_items.label ->> 'companyId'") }} as label_company_id,
        {{ clean_text("label_items.label ->> 'lv1Name'") }} as lv1_name,
        {{ clean_text("label_items.label ->> 'lv2Name'") }} as lv2_name,
        {{ clean_text("label_items.label ->> 'lv3Name'") }} as lv3_name,
        {{ clean_text("label_items.label ->> 'lv4Name'") }} as lv4_name
    from companies_to_cleanse
    cross join lateral jsonb_array_elements(companies_to_cleanse.label_groups)
        with ordinality as label_groups (label_group, group_number)
    cross join lateral jsonb_array_elements(
        case
            when jsonb_typeof(label_groups.label_group -> 'labels') = 'array'
                then label_groups.label_group -> 'labels'
            else '[]'::jsonb
        end
    ) with ordinality as label_items (label, label_number)

),

labels_resolved as (

    select
        {{ label_company_id(
            'label_company_id', 'asked_for_company_id, group_number', 'label_number', 'asked_for_company_id'
        ) }} as company_id,
        label_type,
        {%- for level in range(1, 5) %}
        {{ region_label_level(levels, level) }} as lv{{ level }}_name{{ "," if not loop.last }}
        {%- endfor %}
    from labels_unnested

),

cleansed as (

    select distinct
        company_id::varchar(255) as company_id,
        label_type::varchar(255) as type,  -- noqa: RF04
        lv1_name::varchar(255) as lv1_name,
        lv2_name::varchar(255) as lv2_name,
        lv3_name::varchar(255) as lv3_name,
        lv4_name::varchar(255) as lv4_name
    from labels_resolved

)

select * from cleansed
