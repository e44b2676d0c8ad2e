{#- enterprise.business_info: each company's findDepart detail (base_info.raw_business_info
    → businessInfodto), cleansed (enrichment.md §2.4): every text trimmed, dates read to
    the day, capital in yuan with 万/亿 scaled, the head count as a number; a value that
    cannot be read is NULL and named in _cleansing_status. One row per company, written
    into the table migrate_identity_tables created (its `id`, created_at and updated_at
    come from the table's defaults): delete+insert by company_id, only companies without
    a row unless WDH_CLEANSE_FULL_REFRESH (`wdh cleanse`). Each field is read under the
    spellings the original read it under. -#}
{{
    config(
        alias='business_info',
        schema='enterprise',
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='company_id',
        full_refresh=false,
        on_schema_change='append_new_columns',
    )
}}

with

base_info as (

    select
        company_id,
        business_info_dto
    from {{ ref('stg_enterprise__base_info') }}

),

companies_to_cleanse as (

    {{ select_companies_to_cleanse('base_info', 'business_info_dto') }}

),

fields_extracted as (

    select
        company_id,
        {{ payload_text('business_info_dto', ['registered_date', 'registeredDate', 'est_date', 'estDate']) }} as registered_date__text,
        {{ payload_text('business_info_dto', ['registerCaptial', 'reg_cap', 'registered_capital']) }} as registered_capital__text,
        {{ payload_text('business_info_dto', ['start_date', 'startDate']) }} as start_date__text,
        {{ payload_text('business_info_dto', ['end_date', 'endDate']) }} as end_date__text,
        {{ payload_text('business_info_dto', ['colleagues_num', 'collegues_num']) }} as colleagues_num__text,
        {{ payload_text('business_info_dto', ['actualCapi', 'actual_capital']) }} as actual_capital__text,
        {{ payload_text('business_info_dto', ['updateTime', 'update_time']) }} as update_time__text,
        {{ payload_text('business_info_dto', ['registered_status', 'registeredStatus']) }} as registered_status,
        {{ payload_text('business_info_dto', ['legal_person_name', 'legalPersonName', 'le_rep']) }} as legal_person_name,
        {{ payload_text('business_info_dto', ['address']) }} as address,
        {{ payload_text('business_info_dto', ['codename']) }} as codename,
        {{ payload_text('business_info_dto', ['companyFullName', 'company_name', 'companyName', 'name', 'coname']) }} as company_name,
        {{ payload_text('business_info_dto', ['company_en_name']) }} as company_en_name,
        {{ payload_text('business_info_dto', ['currency']) }} as currency,
        {{ payload_text('business_info_dto', ['unite_code', 'uniteCode', 'credit_code', 'creditCode']) }} as credit_code,
        {{ payload_text('business_info_dto', ['register_code']) }} as register_code,
        {{ payload_text('business_info_dto', ['organization_code', 'organizationCode']) }} as organization_code,
        {{ payload_text('business_info_dto', ['company_type', 'companyType', 'type']) }} as company_type,
        {{ payload_text('business_info_dto', ['industry_name', 'industryName']) }} as industry_name,
        {{ payload_text('business_info_dto', ['registration_organ_name']) }} as registration_organ_name,
        {{ payload_text('business_info_dto', ['start_end']) }} as start_end,
        {{ payload_text('business_info_dto', ['business_scope', 'businessScope']) }} as business_scope,
        {{ payload_text('business_info_dto', ['telephone']) }} as telephone,
        {{ payload_text('business_info_dto', ['email_address']) }} as email_address,
        {{ payload_text('business_info_dto', ['website']) }} as website,
        {{ payload_text('business_info_dto', ['company_former_name']) }} as company_former_name,
        {{ payload_text('business_info_dto', ['control_id']) }} as control_id,
        {{ payload_text('business_info_dto', ['control_name']) }} as control_name,
        {{ payload_text('business_info_dto', ['bene_id']) }} as bene_id,
        {{ payload_text('business_info_dto', ['bene_name']) }} as bene_name,
        {{ payload_text('business_info_dto', ['province']) }} as province,
        {{ payload_text('business_info_dto', ['department']) }} as department,
        {{ payload_text('business_info_dto', ['legalPersonId', 'legal_person_id']) }} as legal_person_id,
        {{ payload_text('business_info_dto', ['logoUrl', 'logo_url']) }} as logo_url,
        {{ payload_text('business_info_dto', ['typeCode', 'type_code']) }} as type_code,
        {{ payload_text('business_info_dto', ['registeredCapitalCurrency', 'registered_capital_currency']) }} as registered_capital_currency,
        {{ payload_text('business_info_dto', ['fullRegisterTypeDesc', 'full_register_type_desc']) }} as full_register_type_desc,
        {{ payload_text('business_info_dto', ['industryCode', 'industry_code']) }} as industry_code
    from companies_to_cleanse

),

values_parsed as (

    select
        *,
        {{ parse_day_date('registered_date__text') }} as registered_date,
        {{ parse_capital('registered_capital__text') }} as registered_capital,
        {{ parse_day_date('start_date__text') }} as start_date,
        {{ parse_day_date('end_date__text') }} as end_date,
        {{ parse_headcount('colleagues_num__text') }} as colleagues_num,
        {{ parse_capital('actual_capital__text') }} as actual_capital,
        {{ parse_day_date('update_time__text') }} as update_time
    from fields_extracted

),

status_added as (

    select
        *,
        {{ cleansing_status([
            'registered_date', 'registered_capital', 'start_date', 'end_date',
            'colleagues_num', 'actual_capital', 'update_time',
        ]) }} as _cleansing_status
    from values_parsed

),

cleansed as (

    select
        company_id::varchar(255) as company_id,
        registered_date::date as registered_date,
        registered_capital::numeric(20, 2) as registered_capital,
        start_date::date as start_date,
        end_date::date as end_date,
        colleagues_num::integer as colleagues_num,
        actual_capital::numeric(20, 2) as actual_capital,
        registered_status::varchar(255) as registered_status,
        legal_person_name::varchar(255) as legal_person_name,
        address::text as address,
        codename::varchar(255) as codename,
        company_name::varchar(255) as company_name,
        company_en_name::text as company_en_name,
        currency::varchar(255) as currency,
        credit_code::varchar(255) as credit_code,
        register_code::varchar(255) as register_code,
        organization_code::varchar(255) as organization_code,
        company_type::varchar(255) as company_type,
        industry_name::varchar(255) as industry_name,
        registration_organ_name::varchar(255) as registration_organ_name,
        start_end::varchar(255) as start_end,
        business_scope::text as business_scope,
        telephone::varchar(255) as telephone,
        email_address::varchar(255) as email_address,
        website::varchar(255) as website,
        company_former_name::text as company_former_name,
        control_id::varchar(255) as control_id,
        control_name::varchar(255) as control_name,
        bene_id::varchar(255) as bene_id,
        bene_name::varchar(255) as bene_name,
        province::varchar(255) as province,
        department::varchar(255) as department,
        legal_person_id::varchar(255) as legal_person_id,
        logo_url::text as logo_url,
        type_code::varchar(255) as type_code,
        update_time::date as update_time,
        registered_capital_currency::varchar(255) as registered_capital_currency,
        full_register_type_desc::varchar(255) as full_register_type_desc,
        industry_code::varchar(255) as industry_code,
        _cleansing_status::json as _cleansing_status
    from status_added

)

select * from cleansed
